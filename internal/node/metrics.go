package node

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// libp2p registers its own metrics (swarm, identify, resource manager,
// AutoNAT, relay...) on Config.Registerer. The DHT and bitswap record theirs
// through OpenTelemetry and go-metrics-interface, whose process-wide
// registries cannot be pointed at an injected Registerer; the node exports
// their state itself instead, read at each scrape.

// collectTimeout bounds one scrape's wait on the provider's keystore worker.
const collectTimeout = 5 * time.Second

var (
	descBitswapBlocksReceived = prometheus.NewDesc("island_bitswap_blocks_received_total", "Blocks received by bitswap.", nil, nil)
	descBitswapBytesReceived  = prometheus.NewDesc("island_bitswap_received_bytes_total", "Bytes of blocks received by bitswap.", nil, nil)
	descBitswapBlocksSent     = prometheus.NewDesc("island_bitswap_blocks_sent_total", "Blocks sent by bitswap.", nil, nil)
	descBitswapBytesSent      = prometheus.NewDesc("island_bitswap_sent_bytes_total", "Bytes of blocks sent by bitswap.", nil, nil)
	descBitswapMessages       = prometheus.NewDesc("island_bitswap_messages_received_total", "Bitswap messages received.", nil, nil)
	descBitswapWantlist       = prometheus.NewDesc("island_bitswap_wantlist_blocks", "Blocks the node currently wants.", nil, nil)
	descBitswapPartners       = prometheus.NewDesc("island_bitswap_partners", "Peers with a bitswap ledger.", nil, nil)
	descDHTPeers              = prometheus.NewDesc("island_dht_routing_table_peers", "Peers in the DHT routing table.", []string{"dht"}, nil)
	descProvideKeys           = prometheus.NewDesc("island_provide_keys", "Multihashes reprovided every interval.", nil, nil)
	descProvided              = prometheus.NewDesc("island_provide_provided_total", "Keys announced since start.", []string{"dht"}, nil)
	descProvideFailed         = prometheus.NewDesc("island_provide_failed_total", "Keys that failed to be announced since start.", []string{"dht"}, nil)
	descProvideQueued         = prometheus.NewDesc("island_provide_queued_keys", "Keys waiting for their first announcement.", []string{"dht"}, nil)
	descProvideQueuedRegions  = prometheus.NewDesc("island_provide_queued_regions", "Keyspace regions waiting to be reprovided.", []string{"dht"}, nil)
)

// collector exports bitswap, DHT and provider state.
type collector struct{ n *Node }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descBitswapBlocksReceived, descBitswapBytesReceived, descBitswapBlocksSent, descBitswapBytesSent,
		descBitswapMessages, descBitswapWantlist, descBitswapPartners, descDHTPeers,
		descProvideKeys, descProvided, descProvideFailed, descProvideQueued, descProvideQueuedRegions,
	} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	if s, err := n.bswap.Stat(); err == nil {
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
		}
		counter(descBitswapBlocksReceived, s.BlocksReceived)
		counter(descBitswapBytesReceived, s.DataReceived)
		counter(descBitswapBlocksSent, s.BlocksSent)
		counter(descBitswapBytesSent, s.DataSent)
		counter(descBitswapMessages, s.MessagesReceived)
		ch <- prometheus.MustNewConstMetric(descBitswapWantlist, prometheus.GaugeValue, float64(len(s.Wantlist)))
		ch <- prometheus.MustNewConstMetric(descBitswapPartners, prometheus.GaugeValue, float64(len(s.Peers)))
	}
	ch <- prometheus.MustNewConstMetric(descDHTPeers, prometheus.GaugeValue, float64(n.dht.LAN.RoutingTable().Size()), "lan")
	ch <- prometheus.MustNewConstMetric(descDHTPeers, prometheus.GaugeValue, float64(n.dht.WAN.RoutingTable().Size()), "wan")
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	st, err := n.provideStat(ctx, false)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descProvideKeys, prometheus.GaugeValue, float64(st.Keys))
	for name, d := range map[string]DHTProvideStat{"lan": st.LAN, "wan": st.WAN} {
		ch <- prometheus.MustNewConstMetric(descProvided, prometheus.CounterValue, float64(d.Provided), name)
		ch <- prometheus.MustNewConstMetric(descProvideFailed, prometheus.CounterValue, float64(d.Failed), name)
		ch <- prometheus.MustNewConstMetric(descProvideQueued, prometheus.GaugeValue, float64(d.Queued), name)
		ch <- prometheus.MustNewConstMetric(descProvideQueuedRegions, prometheus.GaugeValue, float64(d.QueuedRegions), name)
	}
}
