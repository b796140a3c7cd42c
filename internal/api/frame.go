package api

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Frame kinds of the run stream.
const (
	frameStdout byte = 1
	frameStderr byte = 2
	frameExit   byte = 3
)

// maxFrame bounds what a client buffers for one frame, whatever the server says.
const maxFrame = 1 << 20

// frameWriter multiplexes stdout and stderr of one command onto one stream.
type frameWriter struct {
	mu    sync.Mutex
	w     io.Writer
	flush func()
}

func (fw *frameWriter) writeFrame(kind byte, p []byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for len(p) > 0 || kind == frameExit {
		n := min(len(p), maxFrame)
		var hdr [5]byte
		hdr[0] = kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(n))
		if _, err := fw.w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := fw.w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
		if kind == frameExit {
			break
		}
	}
	if fw.flush != nil {
		fw.flush()
	}
	return nil
}

// stream is an io.Writer that sends everything written to it as frames of one kind.
type stream struct {
	fw   *frameWriter
	kind byte
}

func (s stream) Write(p []byte) (int, error) {
	if err := s.fw.writeFrame(s.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (fw *frameWriter) exit(code int) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	return fw.writeFrame(frameExit, b[:])
}

// errNoExit means the stream ended before the command's exit status arrived:
// the daemon stopped, or the connection broke, while the command ran.
var errNoExit = errors.New("the daemon closed the connection before the command finished")

// readFrames copies a run stream to stdout and stderr and returns the exit status.
func readFrames(r io.Reader, stdout, stderr io.Writer) (int, error) {
	br := bufio.NewReader(r)
	buf := make([]byte, 0, 32*1024)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, errNoExit
			}
			return 0, err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxFrame {
			return 0, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", n, maxFrame)
		}
		if int(n) > cap(buf) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return 0, errNoExit
		}
		switch hdr[0] {
		case frameStdout:
			if _, err := stdout.Write(buf); err != nil {
				return 0, err
			}
		case frameStderr:
			if _, err := stderr.Write(buf); err != nil {
				return 0, err
			}
		case frameExit:
			if n != 4 {
				return 0, fmt.Errorf("exit frame of %d bytes, want 4", n)
			}
			return int(int32(binary.BigEndian.Uint32(buf))), nil
		default:
			return 0, fmt.Errorf("unknown frame kind %d", hdr[0])
		}
	}
}
