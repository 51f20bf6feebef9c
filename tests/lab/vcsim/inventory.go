package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

const gib = int64(1) << 30

// builder creates the spec's inventory. Objects are created through the
// vSphere API (an ordinary client talking to our own server, so the guard is
// exercised too) and then adjusted directly in the simulator's registry for
// the properties the API cannot set (memory sizes, datastore types, tools
// status, ...). All of this happens before the ready line is printed.
type builder struct {
	ctx   context.Context
	c     *govmomi.Client
	spec  *Spec
	guard *guard
	esx   bool
}

// dcState holds what has been created for one datacenter.
type dcState struct {
	spec       *DatacenterSpec
	dc         *object.Datacenter
	folders    *object.DatacenterFolders
	hosts      map[string]*simulator.HostSystem
	datastores map[string]*simulator.Datastore
}

func buildInventory(ctx context.Context, u *url.URL, spec *Spec, g *guard) error {
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return fmt.Errorf("connect to simulator: %w", err)
	}
	defer func() { _ = c.Logout(ctx) }()

	b := &builder{ctx: ctx, c: c, spec: spec, guard: g, esx: spec.Mode == "esx"}
	for i := range spec.Datacenters {
		if err := b.datacenter(&spec.Datacenters[i]); err != nil {
			return fmt.Errorf("datacenter %q: %w", spec.Datacenters[i].Name, err)
		}
	}
	recordPowerStates()
	rememberVmdkFacts()
	building = false
	return nil
}

func (b *builder) datacenter(spec *DatacenterSpec) error {
	st := &dcState{
		spec:       spec,
		hosts:      map[string]*simulator.HostSystem{},
		datastores: map[string]*simulator.Datastore{},
	}
	var err error
	if b.esx {
		// A standalone ESXi always has exactly ha-datacenter and one host.
		st.dc = object.NewDatacenter(b.c.Client, esx.Datacenter.Reference())
	} else {
		if st.dc, err = object.NewRootFolder(b.c.Client).CreateDatacenter(b.ctx, spec.Name); err != nil {
			return err
		}
	}
	if st.folders, err = st.dc.Folders(b.ctx); err != nil {
		return err
	}
	if err := b.hosts(st); err != nil {
		return err
	}
	if err := b.networks(st); err != nil {
		return err
	}
	for _, ds := range spec.Datastores {
		if err := b.datastore(st, ds); err != nil {
			return fmt.Errorf("datastore %q: %w", ds.Name, err)
		}
	}
	for _, vm := range spec.VMs {
		if err := b.vm(st, vm); err != nil {
			return fmt.Errorf("vm %q: %w", vm.Name, err)
		}
	}
	restorePinnedFreeSpace()
	reconcileBackReferences()
	return nil
}

// ---------------------------------------------------------------- hosts

func (b *builder) hosts(st *dcState) error {
	if b.esx {
		host := simulator.Map.Get(esx.HostSystem.Reference()).(*simulator.HostSystem)
		name := host.Name
		if len(st.spec.StandaloneHosts) == 1 {
			name = st.spec.StandaloneHosts[0]
		} else if len(st.spec.Hosts) == 1 {
			name = st.spec.Hosts[0].Name
		}
		renameHost(host, name)
		st.hosts[name] = host
		applyHostSpec(host, st.spec.hostSpec(name))
		return nil
	}

	for _, cspec := range st.spec.Clusters {
		cluster, err := st.folders.HostFolder.CreateCluster(b.ctx, cspec.Name, types.ClusterConfigSpecEx{})
		if err != nil {
			return fmt.Errorf("cluster %q: %w", cspec.Name, err)
		}
		for _, name := range cspec.Hosts {
			task, err := cluster.AddHost(b.ctx, types.HostConnectSpec{HostName: name, Force: true}, true, nil, nil)
			if err != nil {
				return err
			}
			if err := b.addHostResult(st, name, task); err != nil {
				return err
			}
		}
	}
	for _, name := range st.spec.StandaloneHosts {
		task, err := st.folders.HostFolder.AddStandaloneHost(b.ctx, types.HostConnectSpec{HostName: name, Force: true}, true, nil, nil)
		if err != nil {
			return err
		}
		if err := b.addHostResult(st, name, task); err != nil {
			return err
		}
	}
	for _, h := range st.spec.Hosts {
		if _, ok := st.hosts[h.Name]; !ok {
			return fmt.Errorf("host %q is in hosts[] but in no cluster or standalone_hosts", h.Name)
		}
	}
	for name, host := range st.hosts {
		applyHostSpec(host, st.spec.hostSpec(name))
	}
	refreshComputeResourceSummaries()
	return nil
}

func (b *builder) addHostResult(st *dcState, name string, task *object.Task) error {
	info, err := task.WaitForResult(b.ctx, nil)
	if err != nil {
		return fmt.Errorf("host %q: %w", name, err)
	}
	if _, dup := st.hosts[name]; dup {
		return fmt.Errorf("host %q listed twice", name)
	}
	st.hosts[name] = simulator.Map.Get(info.Result.(types.ManagedObjectReference)).(*simulator.HostSystem)
	return nil
}

func renameHost(host *simulator.HostSystem, name string) {
	simulator.Map.WithLock(host, func() {
		host.Name = name
		host.Summary.Config.Name = name
	})
	if cr := computeResourceOf(host); cr != nil && len(cr.Host) == 1 {
		cr.Name = name
	}
}

func applyHostSpec(host *simulator.HostSystem, hs HostSpec) {
	simulator.Map.WithLock(host, func() {
		// Hardware and Summary.Hardware are per-host copies (NewHostSystem).
		if hs.MemoryMB > 0 {
			host.Summary.Hardware.MemorySize = hs.MemoryMB << 20
			host.Hardware.MemorySize = hs.MemoryMB << 20
		}
		host.Summary.QuickStats.OverallMemoryUsage = int32(hs.MemoryUsedMB)
		if hs.CPUCores > 0 {
			host.Summary.Hardware.NumCpuCores = hs.CPUCores
			host.Summary.Hardware.NumCpuThreads = hs.CPUCores * 2
			cpu := host.Hardware.CpuInfo
			cpu.NumCpuCores = hs.CPUCores
			cpu.NumCpuThreads = hs.CPUCores * 2
			host.Hardware.CpuInfo = cpu
		}
		switch hs.ConnectionState {
		case "", "connected":
			host.Runtime.ConnectionState = types.HostSystemConnectionStateConnected
		case "disconnected":
			host.Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
		case "notResponding":
			host.Runtime.ConnectionState = types.HostSystemConnectionStateNotResponding
		default:
			host.Runtime.ConnectionState = types.HostSystemConnectionState(hs.ConnectionState)
		}
		host.Runtime.InMaintenanceMode = hs.MaintenanceMode
		host.Summary.Runtime = &host.Runtime
		if host.Capability == nil {
			// unset in the simulator; a lazy read would return None
			host.Capability = &types.HostCapability{
				VmotionSupported: true, StorageVMotionSupported: types.NewBool(true),
				MaintenanceModeSupported: true, RebootSupported: true, ShutdownSupported: true,
				DatastorePrincipalSupported: true, SanSupported: true, NfsSupported: true,
				IscsiSupported: true, VlanTaggingSupported: true, NicTeamingSupported: true,
				HighGuestMemSupported: true, SuspendedRelocateSupported: true,
				PerVMNetworkTrafficShapingSupported: types.NewBool(true), PerVmSwapFiles: true,
				VirtualExecUsageSupported: types.NewBool(true), StorageIORMSupported: types.NewBool(true),
			}
		}
	})
}

// refreshComputeResourceSummaries recomputes cluster / standalone totals
// from their hosts after the per-host hardware has been changed.
func refreshComputeResourceSummaries() {
	var crs []*mo.ComputeResource
	for _, e := range simulator.Map.All("ComputeResource") {
		if cr, ok := e.(*mo.ComputeResource); ok {
			crs = append(crs, cr)
		}
	}
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		if c, ok := e.(*simulator.ClusterComputeResource); ok {
			crs = append(crs, &c.ComputeResource)
		}
	}
	for _, cr := range crs {
		if cr.Summary == nil {
			continue
		}
		s := cr.Summary.GetComputeResourceSummary()
		s.TotalCpu, s.TotalMemory, s.NumCpuCores, s.NumCpuThreads = 0, 0, 0, 0
		s.EffectiveCpu, s.EffectiveMemory, s.NumHosts, s.NumEffectiveHosts = 0, 0, 0, 0
		for _, ref := range cr.Host {
			h := simulator.Map.Get(ref).(*simulator.HostSystem)
			hw := h.Summary.Hardware
			s.TotalCpu += hw.CpuMhz * int32(hw.NumCpuCores)
			s.TotalMemory += hw.MemorySize
			s.NumCpuCores += hw.NumCpuCores
			s.NumCpuThreads += hw.NumCpuThreads
			s.NumHosts++
			if h.Runtime.ConnectionState == types.HostSystemConnectionStateConnected && !h.Runtime.InMaintenanceMode {
				s.EffectiveCpu += hw.CpuMhz * int32(hw.NumCpuCores)
				s.EffectiveMemory += (hw.MemorySize >> 20) - int64(h.Summary.QuickStats.OverallMemoryUsage)
				s.NumEffectiveHosts++
			}
		}
	}
}

// ---------------------------------------------------------------- networks

// networks creates standard port groups for the spec's network names (every
// datacenter already has "VM Network") and attaches each to the hosts that
// list it (every host when a host lists no networks).
func (b *builder) networks(st *dcState) error {
	if len(st.hosts) == 0 {
		return nil
	}
	first := b.firstHost(st)
	for _, name := range st.spec.Networks {
		if b.findNetwork(st, name) == nil {
			ns, err := object.NewHostSystem(b.c.Client, first.Self).ConfigManager().NetworkSystem(b.ctx)
			if err != nil {
				return err
			}
			err = ns.AddPortGroup(b.ctx, types.HostPortGroupSpec{Name: name, VswitchName: "vSwitch0", Policy: types.HostNetworkPolicy{}})
			if err != nil {
				return fmt.Errorf("network %q: %w", name, err)
			}
		}
		net := b.findNetwork(st, name)
		if net == nil {
			return fmt.Errorf("network %q was not created", name)
		}
		for hostName, host := range st.hosts {
			if !st.spec.hostSpec(hostName).hasNetwork(name) {
				continue
			}
			simulator.Map.WithLock(host, func() { addRef(&host.Network, net.Self) })
			if cr := computeResourceOf(host); cr != nil {
				addRef(&cr.Network, net.Self)
			}
			addRef(&net.Host, host.Self)
		}
	}
	return nil
}

func (b *builder) findNetwork(st *dcState, name string) *mo.Network {
	dc := simulator.Map.Get(st.dc.Reference()).(*simulator.Datacenter)
	if e := simulator.Map.FindByName(name, dc.Network); e != nil {
		if n, ok := e.(*mo.Network); ok {
			return n
		}
	}
	return nil
}

func (b *builder) firstHost(st *dcState) *simulator.HostSystem {
	for _, name := range st.spec.allHostNames() {
		if h, ok := st.hosts[name]; ok {
			return h
		}
	}
	for _, h := range st.hosts {
		return h
	}
	return nil
}

func addRef(list *[]types.ManagedObjectReference, ref types.ManagedObjectReference) {
	for _, r := range *list {
		if r == ref {
			return
		}
	}
	*list = append(*list, ref)
}

// ---------------------------------------------------------------- datastores

func (b *builder) datastore(st *dcState, spec DatastoreSpec) error {
	hostNames := spec.Hosts
	if len(hostNames) == 0 {
		for name := range st.hosts {
			hostNames = append(hostNames, name)
		}
	}
	var hosts []*simulator.HostSystem
	for _, name := range hostNames {
		h, ok := st.hosts[name]
		if !ok {
			return fmt.Errorf("unknown host %q", name)
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return fmt.Errorf("no host to mount it on")
	}

	// The simulator keeps datastore contents in a real directory.
	dir, err := os.MkdirTemp("", "vcsim-lab-ds-"+sanitize(spec.Name)+"-")
	if err != nil {
		return err
	}
	tempDirs = append(tempDirs, dir)

	dss, err := object.NewHostSystem(b.c.Client, hosts[0].Self).ConfigManager().DatastoreSystem(b.ctx)
	if err != nil {
		return err
	}
	dsObj, err := dss.CreateLocalDatastore(b.ctx, spec.Name, dir)
	if err != nil {
		return err
	}
	ds := simulator.Map.Get(dsObj.Reference()).(*simulator.Datastore)
	st.datastores[spec.Name] = ds

	for _, h := range hosts[1:] {
		mountDatastore(ds, h)
	}
	applyDatastoreSpec(ds, spec, dir)
	return nil
}

// mountDatastore does what CreateLocalDatastore did for the first host, for
// an additional host: both sides of the host <-> datastore relation.
func mountDatastore(ds *simulator.Datastore, host *simulator.HostSystem) {
	simulator.Map.WithLock(ds, func() {
		ds.Host = append(ds.Host, types.DatastoreHostMount{
			Key: host.Self,
			MountInfo: types.HostMountInfo{
				Path:       ds.Info.GetDatastoreInfo().Url,
				AccessMode: string(types.HostMountModeReadWrite),
				Mounted:    types.NewBool(true),
				Accessible: types.NewBool(true),
			},
		})
	})
	simulator.Map.WithLock(host, func() { addRef(&host.Datastore, ds.Self) })
	if host.ConfigManager.DatastoreSystem != nil {
		if dss, ok := simulator.Map.Get(*host.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem); ok {
			addRef(&dss.Datastore, ds.Self)
		}
	}
	if cr := computeResourceOf(host); cr != nil {
		addRef(&cr.Datastore, ds.Self)
	}
}

func applyDatastoreSpec(ds *simulator.Datastore, spec DatastoreSpec, dir string) {
	capacity := spec.CapacityGB * gib
	if capacity <= 0 {
		capacity = 1024 * gib
	}
	free := spec.FreeGB * gib
	if spec.FreeGB <= 0 && spec.CapacityGB <= 0 {
		free = capacity / 2
	}
	dsType := spec.Type
	switch strings.ToLower(dsType) {
	case "", "vmfs":
		dsType = "VMFS"
	case "vsan":
		dsType = "vsan"
	case "nfs":
		dsType = "NFS"
	case "nfs41":
		dsType = "NFS41"
	case "vvol":
		dsType = "VVOL"
	}
	simulator.Map.WithLock(ds, func() {
		base := *ds.Info.GetDatastoreInfo()
		base.FreeSpace = free
		base.MaxFileSize = free
		base.MaxVirtualDiskCapacity = 62 * 1024 * gib
		base.Url = dir // the simulator resolves "[ds] path" through this
		switch dsType {
		case "VMFS":
			ds.Info = &types.VmfsDatastoreInfo{DatastoreInfo: base, Vmfs: &types.HostVmfsVolume{
				HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: spec.Name, Capacity: capacity},
				BlockSizeMb:          1, MajorVersion: 6, Version: "6.82", Uuid: newHexID(spec.Name), Local: types.NewBool(false),
			}}
		case "NFS", "NFS41":
			ds.Info = &types.NasDatastoreInfo{DatastoreInfo: base, Nas: &types.HostNasVolume{
				HostFileSystemVolume: types.HostFileSystemVolume{Type: dsType, Name: spec.Name, Capacity: capacity},
				RemoteHost:           "nfs.lab", RemotePath: "/export/" + spec.Name,
			}}
		case "vsan":
			// membershipUuid is left unset: pyVmomi only knows it from API 7.0.1,
			// newer than the version the simulator announces (6.5).
			ds.Info = &types.VsanDatastoreInfo{DatastoreInfo: base}
		default:
			ds.Info = &types.LocalDatastoreInfo{DatastoreInfo: base, Path: dir}
		}
		ds.Summary.Type = dsType
		ds.Summary.Capacity = capacity
		ds.Summary.FreeSpace = free
		pinnedFree[ds.Self] = free
		ds.Summary.Accessible = true
		ds.Summary.MultipleHostAccess = types.NewBool(len(ds.Host) > 1)
		ds.Summary.Url = dir
		ds.Capability.RawDiskMappingsSupported = dsType == "VMFS"
	})
}

// newHexID derives a stable uuid-ish identifier from a name.
func newHexID(name string) string {
	var h uint64 = 1469598103934665603
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%08x-%08x-%04x-%012x", uint32(h>>32), uint32(h), uint16(h>>16), h&0xffffffffffff)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, s)
}

// tempDirs are the datastore directories to remove on exit.
var tempDirs []string

func removeTempDirs() {
	for _, d := range tempDirs {
		_ = os.RemoveAll(d)
	}
}

// datastoreDir returns the local directory backing a datastore.
func datastoreDir(ds *simulator.Datastore) string {
	return ds.Info.GetDatastoreInfo().Url
}

// ---------------------------------------------------------------- VMs

var scsiKinds = map[string]func(bus int32) types.BaseVirtualDevice{
	"lsilogic": func(bus int32) types.BaseVirtualDevice {
		return &types.VirtualLsiLogicController{VirtualSCSIController: scsiController(bus)}
	},
	"lsilogic-sas": func(bus int32) types.BaseVirtualDevice {
		return &types.VirtualLsiLogicSASController{VirtualSCSIController: scsiController(bus)}
	},
	"pvscsi": func(bus int32) types.BaseVirtualDevice {
		return &types.ParaVirtualSCSIController{VirtualSCSIController: scsiController(bus)}
	},
	"buslogic": func(bus int32) types.BaseVirtualDevice {
		return &types.VirtualBusLogicController{VirtualSCSIController: scsiController(bus)}
	},
}

func scsiController(bus int32) types.VirtualSCSIController {
	return types.VirtualSCSIController{
		VirtualController: types.VirtualController{
			VirtualDevice: types.VirtualDevice{Key: -100 - bus, ControllerKey: 100},
			BusNumber:     bus,
		},
		SharedBus:          types.VirtualSCSISharingNoSharing,
		ScsiCtlrUnitNumber: 7,
	}
}

func (b *builder) vm(st *dcState, spec VMSpec) error {
	host, ok := st.hosts[spec.Host]
	if !ok {
		return fmt.Errorf("unknown host %q", spec.Host)
	}
	homeDS, ok := st.datastores[spec.Datastore]
	if !ok {
		return fmt.Errorf("unknown datastore %q", spec.Datastore)
	}
	if !hasRef(host.Datastore, homeDS.Self) {
		return fmt.Errorf("datastore %q is not mounted on host %q", spec.Datastore, spec.Host)
	}
	folder, err := b.vmFolder(st, spec.Folder)
	if err != nil {
		return err
	}
	hostObj := object.NewHostSystem(b.c.Client, host.Self)
	pool, err := hostObj.ResourcePool(b.ctx)
	if err != nil {
		return err
	}

	cfg := types.VirtualMachineConfigSpec{
		Name:         spec.Name,
		GuestId:      orDefault(spec.GuestID, string(types.VirtualMachineGuestOsIdentifierOtherGuest64)),
		NumCPUs:      orDefaultInt32(spec.NumCPU, 1),
		MemoryMB:     orDefaultInt64(spec.MemoryMB, 1024),
		Firmware:     orDefault(spec.Firmware, "bios"),
		Uuid:         spec.BiosUUID,
		InstanceUuid: spec.InstanceUUID,
		Files:        &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", spec.Datastore)},
	}
	for k, v := range spec.ExtraConfig {
		cfg.ExtraConfig = append(cfg.ExtraConfig, &types.OptionValue{Key: k, Value: v})
	}

	ctrlKey := map[int32]int32{}
	for _, c := range spec.SCSIControllers {
		mk, ok := scsiKinds[orDefault(c.Type, "lsilogic")]
		if !ok {
			return fmt.Errorf("unknown scsi controller type %q", c.Type)
		}
		dev := mk(c.Bus)
		ctrlKey[c.Bus] = dev.GetVirtualDevice().Key
		cfg.DeviceChange = append(cfg.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: dev,
		})
	}

	for i, d := range spec.Disks {
		key, ok := ctrlKey[d.Bus]
		if !ok {
			return fmt.Errorf("disk %d: no scsi controller on bus %d", i, d.Bus)
		}
		dsName := orDefault(d.Datastore, spec.Datastore)
		ds, ok := st.datastores[dsName]
		if !ok {
			return fmt.Errorf("disk %d: unknown datastore %q", i, dsName)
		}
		file := d.File
		if file == "" {
			file = fmt.Sprintf("%s/%s_%d.vmdk", spec.Name, spec.Name, i)
		}
		// The VM home directory is created by CreateVM itself (it would
		// rename an existing one); any other directory must exist already.
		if dir := path.Dir(file); !(dsName == spec.Datastore && dir == spec.Name) && dir != "." {
			if err := os.MkdirAll(filepath.Join(datastoreDir(ds), filepath.FromSlash(dir)), 0o755); err != nil {
				return err
			}
		}
		disk, err := diskDevice(d, key, fmt.Sprintf("[%s] %s", dsName, file), int32(-1000-i))
		if err != nil {
			return fmt.Errorf("disk %d: %w", i, err)
		}
		cfg.DeviceChange = append(cfg.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation:     types.VirtualDeviceConfigSpecOperationAdd,
			FileOperation: types.VirtualDeviceConfigSpecFileOperationCreate,
			Device:        disk,
		})
	}

	for i, n := range spec.NICs {
		if b.findNetwork(st, n.Network) == nil {
			return fmt.Errorf("nic %d: unknown network %q (list it in networks)", i, n.Network)
		}
		cfg.DeviceChange = append(cfg.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd,
			Device:    nicDevice(n, int32(-200-i)),
		})
	}

	task, err := folder.CreateVM(b.ctx, cfg, pool, hostObj)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(b.ctx, nil)
	if err != nil {
		return err
	}
	ref := info.Result.(types.ManagedObjectReference)
	vmObj := object.NewVirtualMachine(b.c.Client, ref)

	for _, s := range spec.Snapshots {
		task, err := vmObj.CreateSnapshot(b.ctx, s.Name, s.Description, false, false)
		if err != nil {
			return err
		}
		if err := task.Wait(b.ctx); err != nil {
			return fmt.Errorf("snapshot %q: %w", s.Name, err)
		}
	}

	switch spec.PowerState {
	case "", "poweredOff":
	case "poweredOn", "suspended":
		task, err := vmObj.PowerOn(b.ctx)
		if err == nil {
			err = task.Wait(b.ctx)
		}
		if err == nil && spec.PowerState == "suspended" {
			if task, err = vmObj.Suspend(b.ctx); err == nil {
				err = task.Wait(b.ctx)
			}
		}
		if err != nil {
			return fmt.Errorf("power: %w", err)
		}
	default:
		return fmt.Errorf("unknown power_state %q", spec.PowerState)
	}

	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	applyGuestSpec(vm, spec)
	return nil
}

func diskDevice(d DiskSpec, controllerKey int32, fileName string, key int32) (*types.VirtualDisk, error) {
	sizeKB := d.SizeGB << 20
	if d.SizeMB > 0 {
		sizeKB = d.SizeMB << 10
	}
	if sizeKB <= 0 {
		sizeKB = 1 << 20
	}
	unit := d.Unit
	disk := &types.VirtualDisk{
		VirtualDevice: types.VirtualDevice{
			Key:           key,
			ControllerKey: controllerKey,
			UnitNumber:    &unit,
		},
		CapacityInKB:    sizeKB,
		CapacityInBytes: sizeKB << 10,
	}
	switch orDefault(d.Backing, "flat") {
	case "flat":
		disk.Backing = &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: fileName},
			DiskMode:                     string(types.VirtualDiskModePersistent),
			ThinProvisioned:              types.NewBool(d.Thin),
			EagerlyScrub:                 types.NewBool(false),
			Uuid:                         d.UUID,
		}
	case "rdm":
		// Sent as an RDM backing; the guard turns it into a flat disk for
		// the simulator and back into an RDM once the task has run.
		disk.Backing = &types.VirtualDiskRawDiskMappingVer1BackingInfo{
			DeviceName:                   d.DeviceName,
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: fileName},
			LunUuid:                      d.LunUUID,
			CompatibilityMode:            orDefault(d.CompatibilityMode, string(types.VirtualDiskCompatibilityModePhysicalMode)),
			DiskMode:                     string(types.VirtualDiskModeIndependent_persistent),
			Uuid:                         d.UUID,
		}
	default:
		return nil, fmt.Errorf("unknown backing %q (flat or rdm)", d.Backing)
	}
	return disk, nil
}

func nicDevice(n NICSpec, key int32) types.BaseVirtualDevice {
	card := types.VirtualEthernetCard{
		VirtualDevice: types.VirtualDevice{
			Key: key,
			Backing: &types.VirtualEthernetCardNetworkBackingInfo{
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n.Network},
			},
			Connectable: &types.VirtualDeviceConnectInfo{StartConnected: true, Connected: true, AllowGuestControl: true},
		},
		AddressType: string(types.VirtualEthernetCardMacTypeGenerated),
	}
	if n.MAC != "" {
		card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
		card.MacAddress = n.MAC
	}
	switch n.Type {
	case "e1000":
		return &types.VirtualE1000{VirtualEthernetCard: card}
	case "e1000e":
		return &types.VirtualE1000e{VirtualEthernetCard: card}
	default:
		return &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: card}}
	}
}

// applyGuestSpec sets the VMware Tools view of the guest, which no API call
// can set on a real system either.
func applyGuestSpec(vm *simulator.VirtualMachine, spec VMSpec) {
	simulator.Map.WithLock(vm, func() {
		tools := types.VirtualMachineToolsStatus(orDefault(spec.ToolsStatus, string(types.VirtualMachineToolsStatusToolsNotInstalled)))
		running := orDefault(spec.ToolsRunningStatus, string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning))
		vm.Guest.ToolsStatus = tools
		vm.Guest.ToolsRunningStatus = running
		vm.Guest.GuestId = vm.Config.GuestId
		vm.Guest.GuestFullName = vm.Config.GuestFullName
		switch tools {
		case types.VirtualMachineToolsStatusToolsOk:
			vm.Guest.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
			vm.Guest.ToolsVersion = "12352"
		case types.VirtualMachineToolsStatusToolsOld:
			vm.Guest.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsNeedUpgrade)
			vm.Guest.ToolsVersion = "10346"
		case types.VirtualMachineToolsStatusToolsNotInstalled:
			vm.Guest.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled)
			vm.Guest.ToolsVersion = "0"
		}
		vm.Guest.ToolsVersionStatus = vm.Guest.ToolsVersionStatus2
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			vm.Guest.GuestState = "running"
		} else {
			vm.Guest.GuestState = "notRunning"
		}
		if vm.Summary.Guest == nil {
			vm.Summary.Guest = &types.VirtualMachineGuestSummary{}
		}
		vm.Summary.Guest.GuestId = vm.Config.GuestId
		vm.Summary.Guest.GuestFullName = vm.Config.GuestFullName
		vm.Summary.Guest.ToolsStatus = tools
		vm.Summary.Guest.ToolsRunningStatus = running
		vm.Summary.Guest.ToolsVersionStatus2 = vm.Guest.ToolsVersionStatus2
	})
}

// vmFolder returns the datacenter's vm folder, or a "a/b" sub folder of it,
// creating the missing levels.
func (b *builder) vmFolder(st *dcState, p *string) (*object.Folder, error) {
	folder := st.folders.VmFolder
	if p == nil || strings.Trim(*p, "/") == "" {
		return folder, nil
	}
	for _, name := range strings.Split(strings.Trim(*p, "/"), "/") {
		parent := simulator.Map.Get(folder.Reference()).(*simulator.Folder)
		if e := simulator.Map.FindByName(name, parent.ChildEntity); e != nil {
			folder = object.NewFolder(b.c.Client, e.Reference())
			continue
		}
		f, err := folder.CreateFolder(b.ctx, name)
		if err != nil {
			return nil, fmt.Errorf("folder %q: %w", name, err)
		}
		folder = f
	}
	return folder, nil
}

func hasRef(list []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
	for _, r := range list {
		if r == ref {
			return true
		}
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDefaultInt32(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

func orDefaultInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
