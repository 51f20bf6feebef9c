// Command vcsim-lab serves a govmomi simulator (vCenter or standalone ESXi)
// whose inventory is described by a JSON spec file. It prints one JSON line
// with the connection details once the inventory is ready, then serves until
// SIGINT/SIGTERM.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

type readyLine struct {
	URL        string `json:"url"`
	Host       string `json:"host"`
	Port       int    `json:"port"`
	Thumbprint string `json:"thumbprint"`
	CAFile     string `json:"ca_file"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	Mode       string `json:"mode"`
}

func main() {
	specPath := flag.String("spec", "", "inventory spec JSON file (or first positional argument)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	certDir := flag.String("cert-dir", "", "directory for cert.pem/key.pem (default: a new temp dir)")
	trace := flag.Bool("trace", false, "log SOAP requests and responses to stderr")
	noGuard := flag.Bool("no-guard", false, "diagnostics only: serve without the RDM/vMotion workarounds")
	apiVersion := flag.String("api-version", "", "about.apiVersion to announce (default: spec api_version, else the simulator's 6.5)")
	flag.Parse()
	if *specPath == "" && flag.NArg() > 0 {
		*specPath = flag.Arg(0)
	}
	if *specPath == "" {
		fmt.Fprintln(os.Stderr, "usage: vcsim-lab [-listen ADDR] [-cert-dir DIR] SPEC.json")
		os.Exit(2)
	}
	log.SetPrefix("vcsim-lab: ")
	log.SetOutput(os.Stderr)

	spec, err := loadSpec(*specPath)
	if err != nil {
		log.Fatal(err)
	}
	if *trace {
		simulator.Trace = true
		simulator.TraceFile = os.Stderr
	}

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("-listen: %v", err)
	}
	dir := *certDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "vcsim-lab-"); err != nil {
			log.Fatal(err)
		}
		tempDirs = append(tempDirs, dir) // our own temp dir: removed on exit
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	// from here on, fail through fatal so temporary directories are removed
	fatal := func(format string, args ...interface{}) {
		removeTempDirs()
		log.Fatalf(format, args...)
	}
	cert, caFile, err := writeSelfSignedCert(dir, host)
	if err != nil {
		fatal("certificate: %v", err)
	}

	model := newModel(spec.Mode)
	if *apiVersion == "" {
		*apiVersion = spec.APIVersion
	}
	if *apiVersion != "" {
		// also what /sdk/vimServiceVersions.xml announces, so pyVmomi
		// negotiates this version and knows the newer data types
		model.ServiceContent.About.ApiVersion = *apiVersion
		model.ServiceContent.About.Version = versionFromAPI(*apiVersion)
	}
	if err := model.Create(); err != nil {
		fatal("model: %v", err)
	}
	defer model.Remove()
	defer removeTempDirs() // datastore directories

	model.Service.TLS = cert
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(spec.Username, spec.Password)}
	server := model.Service.NewServer()
	defer server.Close()

	// Every SOAP request goes through the guard (see guard.go): it keeps RDM
	// disks from crashing the simulator and repairs host/VM back references.
	guard := newGuard()
	if !*noGuard {
		server.Config.Handler = guard.wrap(server.Config.Handler)
	}
	// Outermost: counts every call that reaches the simulator (labcalls.go).
	server.Config.Handler = newCallCounter().wrap(server.Config.Handler)

	ctx := context.Background()
	if err := buildInventory(ctx, server.URL, spec, guard); err != nil {
		model.Remove()
		fatal("inventory: %v", err)
	}

	addr := server.Listener.Addr().(*net.TCPAddr)
	sdk := url.URL{Scheme: "https", Host: net.JoinHostPort(host, fmt.Sprint(addr.Port)), Path: "/sdk"}
	line, _ := json.Marshal(readyLine{
		URL:        sdk.String(),
		Host:       host,
		Port:       addr.Port,
		Thumbprint: thumbprint(cert.Certificates[0].Certificate[0]),
		CAFile:     caFile,
		Username:   spec.Username,
		Password:   spec.Password,
		Mode:       spec.Mode,
	})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	sig := <-stop
	log.Printf("received %s, shutting down", sig)
}

// newModel returns an empty simulator model: the service instance, root
// folder and (for ESX) the single host with its ha-datacenter, but none of
// the default DC0/cluster/VM inventory.
func newModel(mode string) *simulator.Model {
	var m *simulator.Model
	if mode == "esx" {
		m = simulator.ESX()
	} else {
		m = simulator.VPX()
	}
	m.Autostart = false
	m.Datacenter = 0
	m.Portgroup = 0
	m.Host = 0
	m.Cluster = 0
	m.ClusterHost = 0
	m.Datastore = 0
	m.Machine = 0
	return m
}

// versionFromAPI turns an API version ("7.0.3.0") into a product version
// ("7.0.3").
func versionFromAPI(api string) string {
	parts := strings.Split(api, ".")
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	return strings.Join(parts[:3], ".")
}

// thumbprint is the SHA-1 fingerprint of a DER certificate, formatted the way
// vSphere shows it (AA:BB:...).
func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
