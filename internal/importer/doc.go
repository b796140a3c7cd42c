// Package importer turns files and directories into UnixFS DAGs with the
// unixfs-v1-2025 import profile of IPIP-499, so that every root CID equals the
// one Kubo (or any other implementation using that profile) computes for the
// same bytes: CIDv1, raw leaves, sha2-256, 1 MiB chunks, 1024 links per file
// node, balanced layout, directories sharded into a HAMT (fanout 256) once
// their dag-pb block would exceed 256 KiB. Hidden files are skipped unless
// asked for.
//
// The DAG builders are boxo's (chunker, importer/balanced, unixfs/io); this
// package only walks the input and feeds them. It writes to whatever
// DAGService it is given and knows nothing about repos or pins.
//
// There is one walker, over boxo's files.Node (AddNode), reading each file
// once in the order its directory lists it. A directory on disk (AddPath)
// or any fs.FS (AddFS, such as the renderer's in-memory bundle) reaches it
// as a files.Node too (PathNode, FSNode), so a client can send what it
// would import to a daemon as a multipart stream (files.NewMultiFileReader)
// and the daemon, importing that stream with AddNode, computes the same
// CIDs. Because a stream is outside input, the walker refuses names no file
// system gives and bounds how deeply directories nest.
//
// A Cache makes importing a tree again after a small change cheap: files
// the tree's fs.FS marks as unchanged (Versioned) are not read, and
// directories whose children are all unchanged are not rebuilt. It needs to
// know files by path and to be able to read them again, so it works with
// the nodes of an fs.FS (AddPath, AddFS, PathNode, FSNode), not a stream.
package importer
