package main

// The call counter sits in front of everything the simulator serves (the
// guard included) and counts the requests that reach it, so tests can prove
// that a module in check mode made no mutating call:
//
//   - a SOAP request (POST whose body is a SOAP envelope) counts under its
//     method name, the first element inside soap:Body ("ReconfigVM_Task",
//     "RetrievePropertiesEx", ...); a POST whose body has no parsable SOAP
//     method counts under "<unparsed>";
//   - any other request that is not GET/HEAD (a datastore file PUT or DELETE
//     under /folder, ...) counts under "HTTP <METHOD> <path>".
//
// Requests are counted when they arrive, before they are served, so a call
// that fails or panics still counts. Which methods are mutating is left to
// the reader (tests/integration/conftest.py).
//
//	GET    /_lab/soap-calls   {"<method>": count, ...}
//	DELETE /_lab/soap-calls   resets the counts (204)

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"sync"
)

const soapCallsPath = "/_lab/soap-calls"

type callCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

func newCallCounter() *callCounter {
	return &callCounter{counts: map[string]int64{}}
}

func (c *callCounter) add(key string) {
	c.mu.Lock()
	c.counts[key]++
	c.mu.Unlock()
}

func (c *callCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == soapCallsPath {
			c.serve(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			body, err := io.ReadAll(r.Body)
			_ = r.Body.Close()
			if err != nil {
				c.add("<unparsed>")
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			method := soapMethodName(body)
			if method == "" {
				method = "<unparsed>"
			}
			c.add(method)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		default:
			c.add("HTTP " + r.Method + " " + r.URL.Path)
		}
		next.ServeHTTP(w, r)
	})
}

// soapMethodName returns the local name of the first element inside the SOAP
// Body, or "" when body is not a SOAP envelope.
func soapMethodName(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if inBody {
			return start.Name.Local
		}
		if start.Name.Local == "Body" {
			inBody = true
		}
	}
}

func (c *callCounter) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.mu.Lock()
		data, err := json.Marshal(c.counts)
		c.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	case http.MethodDelete:
		c.mu.Lock()
		c.counts = map[string]int64{}
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
