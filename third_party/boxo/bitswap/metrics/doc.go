// Package metrics provides metric constructors for Bitswap operations,
// including histograms for received, sent, and duplicate block sizes and
// for message send times.
package metrics
