package types

// Record is implemented for any record.
type Record interface {
	GetSchema() string
}
