package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// Spec is the JSON inventory description read by the launcher.
type Spec struct {
	Mode        string           `json:"mode"` // "vcenter" (default) or "esx"
	Username    string           `json:"username"`
	Password    string           `json:"password"`
	APIVersion  string           `json:"api_version"` // optional, e.g. "7.0.3.0"
	Datacenters []DatacenterSpec `json:"datacenters"`
}

type DatacenterSpec struct {
	Name            string          `json:"name"`
	Clusters        []ClusterSpec   `json:"clusters"`
	StandaloneHosts []string        `json:"standalone_hosts"`
	Hosts           []HostSpec      `json:"hosts"`
	Datastores      []DatastoreSpec `json:"datastores"`
	Networks        []string        `json:"networks"`
	VMs             []VMSpec        `json:"vms"`
}

type ClusterSpec struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
}

// HostSpec carries per-host attributes; hosts are matched by name against
// the cluster / standalone host lists.
type HostSpec struct {
	Name            string `json:"name"`
	MemoryMB        int64  `json:"memory_mb"`
	MemoryUsedMB    int64  `json:"memory_used_mb"`
	CPUCores        int16  `json:"cpu_cores"`
	ConnectionState string `json:"connection_state"`
	MaintenanceMode bool   `json:"maintenance_mode"`
	// Networks lists the port groups of this host (absent: every network of the datacenter).
	Networks []string `json:"networks"`
}

// hasNetwork tells whether the host carries the datacenter network name.
func (h HostSpec) hasNetwork(name string) bool {
	if h.Networks == nil {
		return true
	}
	for _, n := range h.Networks {
		if n == name {
			return true
		}
	}
	return false
}

type DatastoreSpec struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"` // VMFS, vsan, NFS
	CapacityGB int64    `json:"capacity_gb"`
	FreeGB     int64    `json:"free_gb"`
	Hosts      []string `json:"hosts"` // empty: mounted on every host of the datacenter
}

type VMSpec struct {
	Name               string            `json:"name"`
	Host               string            `json:"host"`
	Datastore          string            `json:"datastore"`
	Folder             *string           `json:"folder"`
	GuestID            string            `json:"guest_id"`
	NumCPU             int32             `json:"num_cpu"`
	MemoryMB           int64             `json:"memory_mb"`
	Firmware           string            `json:"firmware"`
	PowerState         string            `json:"power_state"`
	ToolsStatus        string            `json:"tools_status"`
	ToolsRunningStatus string            `json:"tools_running_status"`
	InstanceUUID       string            `json:"instance_uuid"`
	BiosUUID           string            `json:"bios_uuid"`
	ExtraConfig        map[string]string `json:"extra_config"`
	SCSIControllers    []SCSISpec        `json:"scsi_controllers"`
	Disks              []DiskSpec        `json:"disks"`
	Snapshots          []SnapshotSpec    `json:"snapshots"`
	NICs               []NICSpec         `json:"nics"`
}

type SCSISpec struct {
	Bus  int32  `json:"bus"`
	Type string `json:"type"` // lsilogic, lsilogic-sas, pvscsi, buslogic
}

type DiskSpec struct {
	Bus        int32  `json:"bus"`
	Unit       int32  `json:"unit"`
	SizeGB     int64  `json:"size_gb"`
	SizeMB     int64  `json:"size_mb"` // optional, overrides size_gb when set
	Datastore  string `json:"datastore"`
	File       string `json:"file"`
	Backing    string `json:"backing"` // flat (default) or rdm
	UUID       string `json:"uuid"`
	Thin       bool   `json:"thin"`
	LunUUID    string `json:"lun_uuid"`
	DeviceName string `json:"device_name"`
	// CompatibilityMode of an RDM: physicalMode (default) or virtualMode.
	CompatibilityMode string `json:"compatibility_mode"`
}

type SnapshotSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type NICSpec struct {
	Network string `json:"network"`
	MAC     string `json:"mac"`
	Type    string `json:"type"` // vmxnet3 (default), e1000, e1000e
}

func loadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	spec := &Spec{}
	if err := json.Unmarshal(data, spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if spec.Mode == "" {
		spec.Mode = "vcenter"
	}
	if spec.Mode != "vcenter" && spec.Mode != "esx" {
		return nil, fmt.Errorf("mode must be vcenter or esx, not %q", spec.Mode)
	}
	if spec.Username == "" {
		spec.Username = "administrator@vsphere.local"
	}
	if spec.Password == "" {
		spec.Password = "secret"
	}
	if spec.Mode == "esx" {
		if len(spec.Datacenters) != 1 {
			return nil, fmt.Errorf("esx mode needs exactly one datacenter entry")
		}
		dc := spec.Datacenters[0]
		if len(dc.Clusters) != 0 || len(dc.StandaloneHosts) > 1 {
			return nil, fmt.Errorf("esx mode: no clusters and at most one standalone host")
		}
	}
	return spec, nil
}

func (dc *DatacenterSpec) hostSpec(name string) HostSpec {
	for _, h := range dc.Hosts {
		if h.Name == name {
			return h
		}
	}
	return HostSpec{Name: name}
}

// allHostNames lists cluster hosts first, then standalone hosts, in spec order.
func (dc *DatacenterSpec) allHostNames() []string {
	var names []string
	for _, c := range dc.Clusters {
		names = append(names, c.Hosts...)
	}
	return append(names, dc.StandaloneHosts...)
}
