package node

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
	"go.uber.org/zap/zapcore"
)

// The libraries log through go-log (zap) and, for go-libp2p, through
// gologshim (slog). Both are process-wide; island routes both into one slog
// handler so the daemon's logs come out in one format, with keys.
//
// gologshim picks its handler at each logger's first message, so it is wired
// in init, before any libp2p code can log: its loggers then go through
// go-log's bridge, which applies go-log's per-subsystem levels, and from there
// into libraryCore, go-log's only output, which hands each entry to the
// current sink.
func init() {
	gologshim.SetDefaultHandler(golog.SlogHandler())
	golog.SetPrimaryCore(libraryCore{})
	var h slog.Handler = defaultHandler{}
	librarySink.Store(&h)
}

// defaultHandler is the sink until a node is built: whatever slog.Default()
// is at the time of each message.
type defaultHandler struct{}

func (defaultHandler) handler() slog.Handler {
	h := slog.Default().Handler()
	if _, loops := h.(interface{ GoLogBridge() }); loops {
		// GOLOG_CAPTURE_DEFAULT_SLOG made slog.Default() go-log itself.
		return slog.DiscardHandler
	}
	return h
}

func (d defaultHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return d.handler().Enabled(ctx, l)
}
func (d defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	return d.handler().Handle(ctx, r)
}
func (d defaultHandler) WithAttrs(as []slog.Attr) slog.Handler { return d.handler().WithAttrs(as) }
func (d defaultHandler) WithGroup(name string) slog.Handler    { return d.handler().WithGroup(name) }

var (
	librarySink  atomic.Pointer[slog.Handler]
	libraryLevel sync.Once
)

// routeLibraryLogs sends the libraries' logs to h from now on. The first call
// also sets their level (unless GOLOG_LOG_LEVEL does): go-log's levels are
// process-wide and racy to change while loggers run.
func routeLibraryLogs(h slog.Handler, level slog.Leveler) {
	librarySink.Store(&h)
	libraryLevel.Do(func() {
		if os.Getenv("GOLOG_LOG_LEVEL") != "" {
			return
		}
		_ = golog.SetLogLevel("*", strings.ToLower(level.Level().String()))
		// Expected churn, not worth a warning: the DHT's refresh at every
		// start of a node with no peers yet ("failed to find any peer in
		// table"), identify on connections the other side just closed.
		_ = golog.SetLogLevel("dht/RtRefreshManager", "error")
		_ = golog.SetLogLevel("net/identify", "error")
	})
}

// libraryCore is a zapcore.Core writing to librarySink. It does no level
// filtering of its own: go-log's per-subsystem levels already did.
type libraryCore struct {
	fields []zapcore.Field
}

func (c libraryCore) Enabled(zapcore.Level) bool { return true }

func (c libraryCore) With(fields []zapcore.Field) zapcore.Core {
	return libraryCore{fields: append(slices.Clone(c.fields), fields...)}
}

func (c libraryCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}

func (c libraryCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	h := *librarySink.Load()
	lvl := slogLevel(e.Level)
	ctx := context.Background()
	if !h.Enabled(ctx, lvl) {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	r := slog.NewRecord(e.Time, lvl, e.Message, 0)
	r.AddAttrs(slog.String("system", e.LoggerName))
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.AddAttrs(slog.Any(k, enc.Fields[k]))
	}
	return h.Handle(ctx, r)
}

func (c libraryCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}
