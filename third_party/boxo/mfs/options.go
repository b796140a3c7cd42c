package mfs

type Flags struct {
	Read  bool
	Write bool
	Sync  bool
}
