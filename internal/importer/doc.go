// Package importer turns files and directories into UnixFS DAGs with the
// unixfs-v1-2025 import profile of IPIP-499, so that every root CID equals the
// one Kubo (or any other implementation using that profile) computes for the
// same bytes: CIDv1, raw leaves, sha2-256, 1 MiB chunks, 1024 links per file
// node, balanced layout, directories sharded into a HAMT (fanout 256) once
// their dag-pb block would exceed 256 KiB. Hidden files are skipped unless
// asked for.
//
// The DAG builders are boxo's (chunker, importer/balanced, unixfs/io); this
// package only walks the input (a directory on disk or any fs.FS, such as the
// renderer's in-memory bundle) and feeds them. It writes to whatever
// DAGService it is given and knows nothing about repos or pins.
//
// A Cache makes importing a tree again after a small change cheap: files
// the tree's fs.FS marks as unchanged (Versioned) are not read, and
// directories whose children are all unchanged are not rebuilt.
package importer
