package internal

var HAMTHashFunction func(val []byte) []byte
