package plugintest

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// ErrClientGone is what ReadPacket returns when the script has no more
// client packets: the client stopped answering.
var ErrClientGone = errors.New("plugintest: client sent no more packets")

// Conn is a scripted client connection (an authplugin.AuthConn). Packets in
// Replies are read in order; Respond, if set, is asked for a reply to each
// server write, so an exchange can depend on what the plugin sent.
type Conn struct {
	mu      sync.Mutex
	replies [][]byte
	written [][]byte
	// Respond returns the client's reply to data the server sent, and false
	// when the client sends nothing back.
	Respond func(serverData []byte) ([]byte, bool)
}

// Script returns a Conn whose client answers replies in order.
func Script(replies ...[]byte) *Conn { return &Conn{replies: replies} }

// WriteAuthMoreData records what the plugin sent.
func (c *Conn) WriteAuthMoreData(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, slices.Clone(data))
	if c.Respond != nil {
		if r, ok := c.Respond(data); ok {
			c.replies = append(c.replies, r)
		}
	}
	return nil
}

// ReadPacket returns the client's next packet.
func (c *Conn) ReadPacket(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.replies) == 0 {
		return nil, ErrClientGone
	}
	p := c.replies[0]
	c.replies = c.replies[1:]
	return p, nil
}

// Written returns what the plugin sent, packet by packet.
func (c *Conn) Written() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.written)
}
