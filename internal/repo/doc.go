// Package repo owns island's on-disk state: one directory holding the
// config file, the block store and the metadata datastore, the keystore
// (the node's Ed25519 identity and named keys) and the lock that keeps a
// second process out. On top of the stores it owns pins, garbage collection
// with a pluggable root set, CAR import and export, and verification.
//
// Layout of a repo directory:
//
//	config.json   version, peer ID, datastore kind
//	repo.lock     flock'ed while open; holds the owner's pid
//	keystore/     one file per key (0600), directory 0700; "self" is the identity
//	blocks/       flatfs: one file per block (datastore kind "flatfs")
//	datastore/    pebble: pins, names, provider state (and blocks for kind "pebble")
//
// Durability: every write a method acknowledges (an import, a pin, a CAR)
// survives a crash of the process or the machine. Blocks in flatfs are
// fsynced before their batch commits; metadata writes are made durable by
// Sync, which the pinner and every method here call before returning.
package repo
