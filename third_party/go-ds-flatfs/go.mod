module github.com/ipfs/go-ds-flatfs

go 1.25.0

require (
	github.com/alexbrainman/goissue34681 v0.0.0-20191006012335-3fc7a47baff5
	github.com/ipfs/go-datastore v0.9.2
	github.com/ipfs/go-log/v2 v2.9.2
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/ipfs/go-detect-race v0.0.1 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sys v0.35.0 // indirect
)
