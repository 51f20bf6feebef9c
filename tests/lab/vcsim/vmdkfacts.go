package main

// A third simulator defect the guard works around (see guard.go):
//
//  3. A VMDK is a file with its own size and identity: vCenter reads a disk's
//     capacity and its uuid (the descriptor's ddb.uuid, surfaced as
//     backing.uuid) from the VMDK when an existing file is attached, whatever
//     the request carries. govmomi 0.24's simulator keeps no such facts: it
//     takes capacityInKB from the request (0 when the caller does not know it,
//     as vSphere's "add existing hard disk" does not) and leaves backing.uuid
//     empty, so assignDiskUUIDs gives the disk a new uuid. A VMDK detached and
//     attached again would come back as another, empty disk.
//     Fix: the launcher remembers the capacity and uuid of every flat VMDK it
//     has seen attached (after the build and after every task). After a task,
//     each disk that is new on its VM (a device key not seen on that VM with
//     that file before the task) and whose file the request did not create
//     gets the remembered capacity and uuid back. A file the request creates
//     (fileOperation create or replace) is a new VMDK: its old facts are
//     forgotten.

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// vmdkFact is what vCenter would read from a VMDK's descriptor.
type vmdkFact struct {
	capacityKB    int64
	capacityBytes int64
	uuid          string
}

// vmdkFacts maps a datastore path "[ds] dir/file.vmdk" to its facts. It is
// only touched under the guard's write lock (tasks) or during the build.
var vmdkFacts = map[string]vmdkFact{}

// attachment is one disk device of one VM on one file.
type attachment struct {
	vm   types.ManagedObjectReference
	key  int32
	file string
}

var (
	deviceChangeRe = regexp.MustCompile(`(?s)<(?:[\w.-]+:)?deviceChange\b[^>]*>(.*?)</(?:[\w.-]+:)?deviceChange>`)
	fileOpCreateRe = regexp.MustCompile(`<(?:[\w.-]+:)?fileOperation\b[^>]*>\s*(?:create|replace)\s*</`)
	fileNameRe     = regexp.MustCompile(`<(?:[\w.-]+:)?fileName\b[^>]*>([^<]*)</`)
	nameRe         = regexp.MustCompile(`<(?:[\w.-]+:)?name\b[^>]*>([^<]*)</`)
)

// createdFiles returns the disk files a request makes new: a device change
// with fileOperation create or replace (ReconfigVM_Task, CreateVM_Task), or
// the file (or directory) a VirtualDiskManager / FileManager task creates or
// deletes. Their old facts no longer hold.
func createdFiles(method string, body []byte) map[string]bool {
	created := map[string]bool{}
	switch method {
	case "CreateVirtualDisk_Task", "DeleteVirtualDisk_Task", "DeleteDatastoreFile_Task":
		if m := nameRe.FindSubmatch(body); m != nil {
			created[xmlUnescape(string(m[1]))] = true
		}
		return created
	}
	for _, m := range deviceChangeRe.FindAllSubmatch(body, -1) {
		if !fileOpCreateRe.Match(m[1]) {
			continue
		}
		for _, f := range fileNameRe.FindAllSubmatch(m[1], -1) {
			created[xmlUnescape(string(f[1]))] = true
		}
	}
	return created
}

var capacityKbRe = regexp.MustCompile(`<(?:[\w.-]+:)?capacityKb\b[^>]*>\s*(\d+)\s*</`)

// newDiskFacts returns the facts of the VMDK a CreateVirtualDisk_Task makes:
// the capacity it asks for and a disk uuid of its own, as vCenter writes
// them into the new descriptor (the simulator only creates an empty file).
// Attached later, the disk shows them, whatever the attaching request says.
func newDiskFacts(method string, body []byte) map[string]vmdkFact {
	facts := map[string]vmdkFact{}
	if method != "CreateVirtualDisk_Task" {
		return facts
	}
	name, capacity := nameRe.FindSubmatch(body), capacityKbRe.FindSubmatch(body)
	if name == nil || capacity == nil {
		return facts
	}
	kb, err := strconv.ParseInt(string(capacity[1]), 10, 64)
	if err != nil {
		return facts
	}
	facts[xmlUnescape(string(name[1]))] = vmdkFact{capacityKB: kb, capacityBytes: kb * 1024, uuid: newDiskUUID()}
	return facts
}

func xmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&").Replace(s)
}

// flatDisks calls fn for every disk with a flat backing of every VM.
func flatDisks(fn func(vm *simulator.VirtualMachine, disk *types.VirtualDisk, b *types.VirtualDiskFlatVer2BackingInfo)) {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			for _, disk := range vmDisks(vm) {
				if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok && b.FileName != "" {
					fn(vm, disk, b)
				}
			}
		})
	}
}

// snapshotAttachments records which disk devices exist before a task.
func snapshotAttachments() map[attachment]bool {
	seen := map[attachment]bool{}
	flatDisks(func(vm *simulator.VirtualMachine, disk *types.VirtualDisk, b *types.VirtualDiskFlatVer2BackingInfo) {
		seen[attachment{vm.Self, disk.Key, b.FileName}] = true
	})
	return seen
}

// restoreVmdkFacts gives each existing VMDK attached by the last task its own
// capacity and uuid back, and forgets the facts of files the task created.
func restoreVmdkFacts(before map[attachment]bool, created map[string]bool) {
	for file := range created {
		for known := range vmdkFacts {
			// a deleted directory takes its VMDKs with it
			if known == file || strings.HasPrefix(known, strings.TrimSuffix(file, "/")+"/") {
				delete(vmdkFacts, known)
			}
		}
	}
	flatDisks(func(vm *simulator.VirtualMachine, disk *types.VirtualDisk, b *types.VirtualDiskFlatVer2BackingInfo) {
		if before[attachment{vm.Self, disk.Key, b.FileName}] || created[b.FileName] {
			return
		}
		fact, known := vmdkFacts[b.FileName]
		if !known {
			return
		}
		disk.CapacityInKB = fact.capacityKB
		disk.CapacityInBytes = fact.capacityBytes
		if fact.uuid != "" {
			b.Uuid = fact.uuid
		}
	})
}

// rememberVmdkFacts records the capacity and uuid of every attached flat VMDK
// (a disk attached with capacity 0 and no remembered facts is not recorded).
func rememberVmdkFacts() {
	flatDisks(func(vm *simulator.VirtualMachine, disk *types.VirtualDisk, b *types.VirtualDiskFlatVer2BackingInfo) {
		if disk.CapacityInKB == 0 && disk.CapacityInBytes == 0 && b.Uuid == "" {
			return
		}
		bytes := disk.CapacityInBytes
		if bytes == 0 {
			bytes = disk.CapacityInKB * 1024
		}
		vmdkFacts[b.FileName] = vmdkFact{capacityKB: disk.CapacityInKB, capacityBytes: bytes, uuid: b.Uuid}
	})
}
