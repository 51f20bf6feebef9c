package main

// The guard sits in front of the simulator's SOAP handler and works around
// govmomi 0.24 simulator defects that matter for disk-moving workflows (the
// third, a VMDK's own capacity and uuid, is in vmdkfacts.go):
//
//  1. VirtualMachine.updateDiskLayouts type-asserts every disk backing to
//     VirtualDiskFlatVer2BackingInfo and panics on anything else. It runs on
//     every ReconfigVM_Task, CreateVM_Task and RefreshStorageInfo, so a VM
//     with an RDM disk could never be reconfigured again (the request dies
//     with a dropped connection and the task stays "running").
//     Fix: before any *_Task request, every RDM backing in the inventory is
//     swapped for an equivalent flat backing (same fileName, datastore, uuid,
//     diskMode); afterwards each disk whose file is a known RDM mapping file
//     gets its RDM backing back. RDM backings that arrive in a request
//     (attaching an existing RDM to another VM, CreateVM with an RDM) are
//     rewritten to flat in the request body and restored the same way.
//
//  2. RelocateVM_Task (vMotion) updates runtime.host but never moves the VM
//     between HostSystem.vm / ResourcePool.vm / Datastore.vm lists.
//     Fix: after any *_Task request those back references are recomputed
//     from the VMs' own runtime.host, resourcePool and datastore properties.
//
// Requests are serialized around *_Task calls (write lock) so that a read
// never observes the transient flat stand-ins. WaitForUpdates* long polls
// bypass the lock.

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type guard struct {
	mu sync.RWMutex

	rdmMu sync.Mutex
	// rdm maps a datastore path "[ds] dir/file.vmdk" to the RDM backing that
	// a disk using that mapping file must show.
	rdm map[string]types.VirtualDiskRawDiskMappingVer1BackingInfo
}

func newGuard() *guard {
	return &guard{rdm: map[string]types.VirtualDiskRawDiskMappingVer1BackingInfo{}}
}

var (
	// first element inside the SOAP Body is the method name
	soapMethodRe = regexp.MustCompile(`<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([A-Za-z_]+)`)
	// an RDM backing element in a request (no nested <backing> expected)
	rdmBackingRe = regexp.MustCompile(`(?s)<((?:[\w.-]+:)?backing)\b([^>]*\btype="(?:[\w.-]+:)?)VirtualDiskRawDiskMappingVer1BackingInfo("[^>]*>)(.*?)</(?:[\w.-]+:)?backing>`)
)

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		method := ""
		if m := soapMethodRe.FindSubmatch(body); m != nil {
			method = string(m[1])
		}
		serve := func(b []byte) {
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
			next.ServeHTTP(w, r)
		}
		switch {
		case strings.HasPrefix(method, "WaitForUpdates") || method == "CheckForUpdates":
			serve(body)
		case method == "Fetch":
			g.mu.RLock()
			defer g.mu.RUnlock()
			g.serveFetch(w, r, body, next)
		case strings.HasSuffix(method, "_Task") || method == "RefreshStorageInfo":
			g.mu.Lock()
			defer g.mu.Unlock()
			body = g.rewriteRDMBackings(body)
			g.hideRDMs()
			before, created, made := snapshotAttachments(), createdFiles(method, body), newDiskFacts(method, body)
			defer g.afterTask(before, created, made)
			serve(body)
		default:
			g.mu.RLock()
			defer g.mu.RUnlock()
			serve(body)
		}
	})
}

// emptyFetchResponse is what vCenter answers when a lazily read property
// (PropertyCollector.Fetch, used by pyVmomi attribute access) is unset.
const emptyFetchResponse = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><FetchResponse xmlns="urn:vim25"></FetchResponse></soapenv:Body></soapenv:Envelope>`

// serveFetch answers Fetch of an unset property with an empty response: the
// simulator indexes an empty MissingSet and panics (the client would see the
// connection drop).
func (g *guard) serveFetch(w http.ResponseWriter, r *http.Request, body []byte, next http.Handler) {
	rec := httptest.NewRecorder()
	panicked := func() (p bool) {
		defer func() {
			if recover() != nil {
				p = true
			}
		}()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(rec, r)
		return false
	}()
	if panicked {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, emptyFetchResponse)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// afterTask runs even if the simulator handler panicked. before and
// created are the disk devices before the task and the files it creates
// (vmdkfacts.go).
func (g *guard) afterTask(before map[attachment]bool, created map[string]bool, made map[string]vmdkFact) {
	g.restoreRDMs()
	restoreVmdkFacts(before, created)
	for file, fact := range made {
		vmdkFacts[file] = fact
	}
	dedupeExtraConfig()
	assignDiskUUIDs()
	rememberVmdkFacts()
	restorePinnedFreeSpace()
	reconcileBackReferences()
	emulateGuestAndHostMemory()
}

// vmSeen remembers each VM's power state and host after the previous task.
type vmSeen struct {
	power types.VirtualMachinePowerState
	host  types.ManagedObjectReference
	memMB int64
}

var lastSeen = map[types.ManagedObjectReference]vmSeen{}

// building is true while the launcher builds the spec's inventory.
var building = true

// emulateGuestAndHostMemory plays what the guest and the host do around power
// changes, which the simulator leaves static: VMware Tools start when a VM
// with Tools installed powers on and stop when it powers off, and a powered-on
// VM's memory counts in its host's quickStats.overallMemoryUsage (moving with
// it on vMotion), so that host memory headroom (ASR error 8038) is realistic.
func emulateGuestAndHostMemory() {
	if building {
		return // the spec's own power states are the starting point, not changes
	}
	hostDelta := map[types.ManagedObjectReference]int64{}
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			if vm.Runtime.Host == nil || vm.Config == nil {
				return
			}
			now := vmSeen{power: vm.Runtime.PowerState, host: *vm.Runtime.Host, memMB: int64(vm.Config.Hardware.MemoryMB)}
			before, known := lastSeen[vm.Self]
			lastSeen[vm.Self] = now
			if !known {
				// A VM created after the build is a failed-back VM: its disks carry a guest OS
				// with VMware Tools (ASR reinstalls them), so Tools start when it powers on.
				if vm.Guest != nil && vm.Guest.ToolsStatus == types.VirtualMachineToolsStatusToolsNotInstalled {
					vm.Guest.ToolsStatus = types.VirtualMachineToolsStatusToolsNotRunning
					vm.Summary.Guest.ToolsStatus = vm.Guest.ToolsStatus
				}
				if now.power == types.VirtualMachinePowerStatePoweredOn {
					hostDelta[now.host] += now.memMB
				}
				connectNICs(vm, now.power == types.VirtualMachinePowerStatePoweredOn)
				return
			}
			on := types.VirtualMachinePowerStatePoweredOn
			if before.power == on {
				hostDelta[before.host] -= before.memMB
			}
			if now.power == on {
				hostDelta[now.host] += now.memMB
			}
			if before.power != now.power {
				connectNICs(vm, now.power == on)
			}
			if before.power != now.power && vm.Guest != nil &&
				vm.Guest.ToolsStatus != types.VirtualMachineToolsStatusToolsNotInstalled {
				if now.power == on {
					vm.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
					vm.Guest.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
				} else {
					vm.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
					vm.Guest.ToolsStatus = types.VirtualMachineToolsStatusToolsNotRunning
				}
				vm.Summary.Guest.ToolsRunningStatus = vm.Guest.ToolsRunningStatus
				vm.Summary.Guest.ToolsStatus = vm.Guest.ToolsStatus
			}
		})
	}
	for ref, delta := range hostDelta {
		if delta == 0 {
			continue
		}
		if h, ok := simulator.Map.Get(ref).(*simulator.HostSystem); ok {
			simulator.Map.WithLock(h, func() {
				used := int64(h.Summary.QuickStats.OverallMemoryUsage) + delta
				if used < 0 {
					used = 0
				}
				h.Summary.QuickStats.OverallMemoryUsage = int32(used)
			})
		}
	}
}

// connectNICs plays what vCenter does with a VM's network adapters around a
// power change, which the simulator leaves as the request set them: on power
// on, an adapter set to connect at power on (connectable.startConnected) is
// connected; on power off, every adapter is disconnected. A VM created with
// startConnected true and connected false (as vSphere's API asks for a VM
// that is off) would otherwise never be connected.
func connectNICs(vm *simulator.VirtualMachine, poweredOn bool) {
	if vm.Config == nil {
		return
	}
	for _, device := range vm.Config.Hardware.Device {
		card, ok := device.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		info := card.GetVirtualEthernetCard().Connectable
		if info == nil {
			continue
		}
		info.Connected = poweredOn && info.StartConnected
	}
}

// recordPowerStates notes every VM's state as the spec built it, so only later
// changes move memory or Tools.
func recordPowerStates() {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			if vm.Runtime.Host != nil && vm.Config != nil {
				lastSeen[vm.Self] = vmSeen{power: vm.Runtime.PowerState, host: *vm.Runtime.Host,
					memMB: int64(vm.Config.Hardware.MemoryMB)}
			}
		})
	}
}

// assignDiskUUIDs gives new flat disks a uuid as vCenter does (the
// simulator leaves backing.uuid empty).
func assignDiskUUIDs() {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			for _, disk := range vmDisks(vm) {
				if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok && b.Uuid == "" {
					b.Uuid = newDiskUUID()
				}
			}
		})
	}
}

// newDiskUUID is a disk uuid as vSphere writes them: the VMware OUI prefix 6000C29.
func newDiskUUID() string {
	return "6000C29" + strings.ToUpper(uuid.New().String()[7:])
}

// dedupeExtraConfig keeps one value per extraConfig key, the last one set, and
// drops a key set to the empty string: what vCenter does with a reconfigure's
// extraConfig (the simulator appends each option, so a key set twice would be
// read twice).
func dedupeExtraConfig() {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			if vm.Config == nil {
				return
			}
			last := map[string]int{}
			for i, option := range vm.Config.ExtraConfig {
				last[option.GetOptionValue().Key] = i
			}
			kept := vm.Config.ExtraConfig[:0]
			for i, option := range vm.Config.ExtraConfig {
				value := option.GetOptionValue()
				if last[value.Key] != i {
					continue
				}
				if text, ok := value.Value.(string); ok && text == "" {
					continue
				}
				kept = append(kept, option)
			}
			vm.Config.ExtraConfig = kept
		})
	}
}

// pinnedFree holds each datastore's free space from the spec. The simulator
// subtracts a disk's capacity on every disk add, including attaching an
// existing VMDK, so the value is restored after each task to keep reads
// deterministic.
var pinnedFree = map[types.ManagedObjectReference]int64{}

func restorePinnedFreeSpace() {
	for _, e := range simulator.Map.All("Datastore") {
		ds, ok := e.(*simulator.Datastore)
		if !ok {
			continue
		}
		if free, ok := pinnedFree[ds.Self]; ok {
			simulator.Map.WithLock(ds, func() {
				ds.Summary.FreeSpace = free
				ds.Info.GetDatastoreInfo().FreeSpace = free
			})
		}
	}
}

// registerRDM records that the disk file at path is an RDM mapping file.
func (g *guard) registerRDM(b types.VirtualDiskRawDiskMappingVer1BackingInfo) {
	g.rdmMu.Lock()
	defer g.rdmMu.Unlock()
	b.Datastore = nil
	g.rdm[b.FileName] = b
}

func (g *guard) lookupRDM(path string) (types.VirtualDiskRawDiskMappingVer1BackingInfo, bool) {
	g.rdmMu.Lock()
	defer g.rdmMu.Unlock()
	b, ok := g.rdm[path]
	return b, ok
}

// rdmFields is the subset of an RDM backing we need to keep from a request.
type rdmFields struct {
	FileName          string `xml:"fileName"`
	DiskMode          string `xml:"diskMode"`
	LunUuid           string `xml:"lunUuid"`
	DeviceName        string `xml:"deviceName"`
	CompatibilityMode string `xml:"compatibilityMode"`
	Uuid              string `xml:"uuid"`
	ContentId         string `xml:"contentId"`
	ChangeId          string `xml:"changeId"`
}

// rewriteRDMBackings turns RDM backings in a request into flat backings the
// simulator can handle, remembering the RDM details by file name.
func (g *guard) rewriteRDMBackings(body []byte) []byte {
	return rdmBackingRe.ReplaceAllFunc(body, func(elem []byte) []byte {
		m := rdmBackingRe.FindSubmatch(elem)
		var f rdmFields
		if err := xml.Unmarshal([]byte("<b>"+string(m[4])+"</b>"), &f); err == nil && f.FileName != "" {
			g.registerRDM(types.VirtualDiskRawDiskMappingVer1BackingInfo{
				DeviceName:                   f.DeviceName,
				VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: f.FileName},
				LunUuid:                      f.LunUuid,
				CompatibilityMode:            f.CompatibilityMode,
				DiskMode:                     f.DiskMode,
				Uuid:                         f.Uuid,
				ContentId:                    f.ContentId,
				ChangeId:                     f.ChangeId,
			})
		}
		var out bytes.Buffer
		out.WriteString("<" + string(m[1]) + string(m[2]) + "VirtualDiskFlatVer2BackingInfo" + string(m[3]))
		out.WriteString(stripRDMOnlyElements(string(m[4])))
		out.WriteString("</" + string(m[1]) + ">")
		return out.Bytes()
	})
}

var rdmOnlyRe = regexp.MustCompile(`(?s)<(?:[\w.-]+:)?(lunUuid|deviceName|compatibilityMode|useAutoDetect)\b[^>]*(?:/>|>.*?</(?:[\w.-]+:)?(?:lunUuid|deviceName|compatibilityMode|useAutoDetect)>)`)

// stripRDMOnlyElements removes elements a flat backing does not have (the
// simulator's XML decoder would otherwise reject or misplace them).
func stripRDMOnlyElements(s string) string {
	return rdmOnlyRe.ReplaceAllString(s, "")
}

func allVMs() []*simulator.VirtualMachine {
	var vms []*simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			vms = append(vms, vm)
		}
	}
	return vms
}

func vmDisks(vm *simulator.VirtualMachine) []*types.VirtualDisk {
	var disks []*types.VirtualDisk
	if vm.Config == nil {
		return nil
	}
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			disks = append(disks, disk)
		}
	}
	return disks
}

// hideRDMs swaps each RDM backing for a flat stand-in.
func (g *guard) hideRDMs() {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			for _, disk := range vmDisks(vm) {
				rdm, ok := disk.Backing.(*types.VirtualDiskRawDiskMappingVer1BackingInfo)
				if !ok {
					continue
				}
				g.registerRDM(*rdm)
				disk.Backing = &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: rdm.VirtualDeviceFileBackingInfo,
					DiskMode:                     rdm.DiskMode,
					Uuid:                         rdm.Uuid,
					ThinProvisioned:              types.NewBool(false),
				}
			}
		})
	}
}

// restoreRDMs gives every disk whose file is a known RDM mapping file its
// RDM backing back.
func (g *guard) restoreRDMs() {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			for _, disk := range vmDisks(vm) {
				flat, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
				if !ok {
					continue
				}
				rdm, known := g.lookupRDM(flat.FileName)
				if !known {
					continue
				}
				rdm.VirtualDeviceFileBackingInfo = flat.VirtualDeviceFileBackingInfo
				if rdm.CompatibilityMode == "" {
					rdm.CompatibilityMode = string(types.VirtualDiskCompatibilityModePhysicalMode)
				}
				if rdm.DiskMode == "" {
					rdm.DiskMode = string(types.VirtualDiskModeIndependent_persistent)
				}
				if rdm.Uuid == "" {
					rdm.Uuid = flat.Uuid
				}
				disk.Backing = &rdm
			}
		})
	}
}

// reconcileBackReferences recomputes HostSystem.vm, ResourcePool.vm and
// Datastore.vm from the VMs' own properties (vMotion leaves them stale).
func reconcileBackReferences() {
	hostVMs := map[types.ManagedObjectReference][]types.ManagedObjectReference{}
	poolVMs := map[types.ManagedObjectReference][]types.ManagedObjectReference{}
	dsVMs := map[types.ManagedObjectReference][]types.ManagedObjectReference{}
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			fillVMDefaults(vm)
			if vm.Runtime.Host != nil {
				fixPoolForHost(vm)
				hostVMs[*vm.Runtime.Host] = append(hostVMs[*vm.Runtime.Host], vm.Self)
			}
			if vm.ResourcePool != nil {
				poolVMs[*vm.ResourcePool] = append(poolVMs[*vm.ResourcePool], vm.Self)
			}
			for _, ds := range vm.Datastore {
				dsVMs[ds] = append(dsVMs[ds], vm.Self)
			}
		})
	}
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok {
			simulator.Map.WithLock(h, func() { h.Vm = hostVMs[h.Self] })
		}
	}
	for _, e := range simulator.Map.All("ResourcePool") {
		if p, ok := e.(*simulator.ResourcePool); ok {
			simulator.Map.WithLock(p, func() { p.Vm = poolVMs[p.Self] })
		}
	}
	for _, e := range simulator.Map.All("Datastore") {
		if d, ok := e.(*simulator.Datastore); ok {
			simulator.Map.WithLock(d, func() { d.Vm = dsVMs[d.Self] })
		}
	}
}

// fillVMDefaults sets properties the simulator leaves unset but vCenter
// always has, so lazy reads of them return a value instead of None.
func fillVMDefaults(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	if vm.ResourceConfig == nil && vm.Config.CpuAllocation != nil && vm.Config.MemoryAllocation != nil {
		vm.ResourceConfig = &types.ResourceConfigSpec{
			Entity:           &vm.Self,
			CpuAllocation:    *vm.Config.CpuAllocation,
			MemoryAllocation: *vm.Config.MemoryAllocation,
		}
	}
	status := types.ManagedEntityStatusGray
	if vm.Guest != nil && vm.Guest.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) &&
		vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		status = types.ManagedEntityStatusGreen
	}
	vm.GuestHeartbeatStatus = status
	vm.Summary.QuickStats.GuestHeartbeatStatus = status
}

// fixPoolForHost moves a VM to the root resource pool of its host's compute
// resource when a relocation left it in a pool of another compute resource
// (real vCenter requires spec.pool for such moves; the simulator ignores it).
func fixPoolForHost(vm *simulator.VirtualMachine) {
	host, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	if !ok || host.Parent == nil {
		return
	}
	cr := computeResourceOf(host)
	if cr == nil || cr.ResourcePool == nil {
		return
	}
	if vm.ResourcePool != nil && poolOwner(*vm.ResourcePool) == cr.Self {
		return
	}
	if vm.ResourcePool != nil && vm.ResourcePool.Type == "VirtualApp" {
		return
	}
	pool := *cr.ResourcePool
	vm.ResourcePool = &pool
	vm.Summary.Runtime.Host = vm.Runtime.Host
}

func poolOwner(ref types.ManagedObjectReference) types.ManagedObjectReference {
	if p, ok := simulator.Map.Get(ref).(*simulator.ResourcePool); ok {
		return p.Owner
	}
	return types.ManagedObjectReference{}
}

// computeResourceOf returns the ComputeResource part of a host's parent
// (standalone ComputeResource or ClusterComputeResource).
func computeResourceOf(host *simulator.HostSystem) *mo.ComputeResource {
	switch p := simulator.Map.Get(*host.Parent).(type) {
	case *mo.ComputeResource:
		return p
	case *simulator.ClusterComputeResource:
		return &p.ComputeResource
	}
	return nil
}
