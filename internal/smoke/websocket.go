package smoke

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// checkWebsocket opens a websocket to /websocket, as Meteor's client does
// (Meteor rewrites /websocket to its raw-websocket endpoint:
// packages/ddp-server/stream_server.js, _redirectWebsocketEndpoint,
// https://github.com/meteor/meteor), and speaks DDP's handshake: the
// client sends {"msg":"connect","version":"1","support":[...]}, the server
// answers {"msg":"connected","session":...} or {"msg":"failed",
// "version":...}; before that it may send a message without "msg" (the
// old {"server_id":"0"}), which the client ignores, and either side may
// send {"msg":"ping"} (packages/ddp/DDP.md, "Establishing a DDP
// Connection" and "Heartbeats").
func (s *site) checkWebsocket(ctx context.Context) Result {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	path := s.prefix + "/websocket"
	conn, err := s.dialSite(ctx)
	if err != nil {
		d, fix := s.netError(err, s.dial)
		return fail(CheckWebsocket, "connecting for "+path+": "+d, fix)
	}
	defer conn.Close()
	// The context bounds every read and write below.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	timedOut := func(err error) bool { return ctx.Err() != nil || isTimeout(err) }

	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
		path, s.root.Host, k, s.root.String())
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		if timedOut(err) {
			return fail(CheckWebsocket, fmt.Sprintf("GET %s as a websocket got no answer within %s.", path, s.timeout),
				"see "+s.proxyLogs()+" and the app processes' logs (`docker compose logs rocketchat-1`).")
		}
		return fail(CheckWebsocket, fmt.Sprintf("GET %s as a websocket got no HTTP answer: %v.", path, err),
			"see "+s.proxyLogs()+".")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(CheckWebsocket, fmt.Sprintf("GET %s answered %s instead of upgrading to a websocket (101).", path, resp.Status),
			"something in front of the app does not pass websocket upgrades (another proxy, a CDN or a firewall): let it pass Upgrade and Connection headers; without websockets browsers fall back to slow polling.")
	}
	if want := accept(k); resp.Header.Get("Sec-WebSocket-Accept") != want {
		return fail(CheckWebsocket, fmt.Sprintf("GET %s upgraded with a wrong Sec-WebSocket-Accept (%q).", path, resp.Header.Get("Sec-WebSocket-Accept")),
			"something between the browser and the app rewrites the websocket handshake: let it pass unchanged.")
	}
	if err := writeText(conn, []byte(`{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`)); err != nil {
		return fail(CheckWebsocket, fmt.Sprintf("the websocket upgraded but sending DDP connect failed: %v.", err),
			"see the app processes' logs (`docker compose logs rocketchat-1`).")
	}
	for {
		msg, err := readMessage(r, conn)
		if err != nil {
			var closed closeError
			switch {
			case timedOut(err):
				return fail(CheckWebsocket, fmt.Sprintf("the websocket upgraded but no DDP answer to connect came within %s.", s.timeout),
					"the app process behind the proxy is stuck or is not Rocket.Chat: see `docker compose logs rocketchat-1`.")
			case errors.As(err, &closed):
				return fail(CheckWebsocket, fmt.Sprintf("the websocket upgraded, then the server closed it (%s) without answering DDP connect.", closed),
					"see the app processes' logs (`docker compose logs rocketchat-1`).")
			}
			return fail(CheckWebsocket, fmt.Sprintf("the websocket upgraded, then failed before DDP connected: %v.", err),
				"see "+s.proxyLogs()+" and `docker compose logs rocketchat-1`.")
		}
		var m struct {
			Msg     *string `json:"msg"`
			Session string  `json:"session"`
			Version string  `json:"version"`
			ID      *string `json:"id"`
			Reason  string  `json:"reason"`
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			return fail(CheckWebsocket, fmt.Sprintf("the websocket answered %s, which is not DDP (JSON).", excerpt(msg)),
				"something other than Rocket.Chat answers /websocket: check the proxy's configuration.")
		}
		switch {
		case m.Msg == nil:
			continue // {"server_id":"0"}: to be ignored
		case *m.Msg == "connected":
			return pass(CheckWebsocket, fmt.Sprintf("%s upgrades and DDP connects (session %s).", path, m.Session))
		case *m.Msg == "failed":
			return fail(CheckWebsocket, fmt.Sprintf("DDP connect failed: the server wants protocol version %q, not 1.", m.Version),
				"the app is not a Rocket.Chat that rcgen knows: check the image (`docker compose ps`).")
		case *m.Msg == "error":
			return fail(CheckWebsocket, fmt.Sprintf("DDP connect answered an error: %s.", m.Reason),
				"see the app processes' logs (`docker compose logs rocketchat-1`).")
		case *m.Msg == "ping":
			pong := map[string]string{"msg": "pong"}
			if m.ID != nil {
				pong["id"] = *m.ID
			}
			b, _ := json.Marshal(pong)
			_ = writeText(conn, b)
		}
	}
}

// accept is the Sec-WebSocket-Accept for key (RFC 6455 4.2.2).
func accept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Frame opcodes (RFC 6455 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxMessage bounds what the check reads of one message: DDP's handshake
// answers are a few dozen bytes.
const maxMessage = 1 << 20

// writeText sends p as one masked text frame (a client masks every frame,
// RFC 6455 5.3).
func writeText(w io.Writer, p []byte) error { return writeFrame(w, opText, p) }

func writeFrame(w io.Writer, op byte, p []byte) error {
	h := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n <= 0xffff:
		h = append(h, 0x80|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	h = append(h, mask[:]...)
	frame := append(h, p...)
	body := frame[len(h):]
	for i := range body {
		body[i] ^= mask[i%4]
	}
	_, err := w.Write(frame)
	return err
}

// closeError is the server's close frame.
type closeError struct {
	code   int
	reason string
}

func (e closeError) Error() string {
	if e.code == 0 {
		return "no status"
	}
	if e.reason == "" {
		return fmt.Sprintf("status %d", e.code)
	}
	return fmt.Sprintf("status %d: %s", e.code, e.reason)
}

// readMessage reads the next data message, joining fragments, answering
// pings (to w) and skipping pongs; a close frame is a closeError.
func readMessage(r *bufio.Reader, w io.Writer) ([]byte, error) {
	var msg []byte
	started := false
	for {
		fin, op, p, err := readFrame(r)
		if err != nil {
			return nil, err
		}
		switch op {
		case opPing:
			if err := writeFrame(w, opPong, p); err != nil {
				return nil, err
			}
			continue
		case opPong:
			continue
		case opClose:
			e := closeError{}
			if len(p) >= 2 {
				e.code = int(binary.BigEndian.Uint16(p))
				e.reason = string(p[2:])
			}
			return nil, e
		case opText, opBinary:
			if started {
				return nil, errors.New("a new message began inside a fragmented one")
			}
			started = true
		case opContinuation:
			if !started {
				return nil, errors.New("a continuation frame began a message")
			}
		default:
			return nil, fmt.Errorf("unknown frame opcode %#x", op)
		}
		if len(msg)+len(p) > maxMessage {
			return nil, fmt.Errorf("a message longer than %d bytes", maxMessage)
		}
		msg = append(msg, p...)
		if fin {
			return msg, nil
		}
	}
}

// readFrame reads one frame (RFC 6455 5.2). A server's frames are not
// masked; a masked one is unmasked all the same.
func readFrame(r *bufio.Reader) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return false, 0, nil, err
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	if h[0]&0x70 != 0 {
		return false, 0, nil, errors.New("a frame with reserved bits set (an extension the check did not ask for)")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > maxMessage {
		return false, 0, nil, fmt.Errorf("a frame of %d bytes", n)
	}
	var mask [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return false, 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return false, 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return fin, op, payload, nil
}
