package privilege

import (
	"hash/maphash"
	"iter"

	"github.com/benbjohnson/immutable"
)

// pmap is a persistent hash map: setting or deleting a key returns a new
// map sharing all but O(log n) nodes with the old one, which is left as it
// was. Snapshots are built on it so that a change costs what it changes,
// not a copy of every account; a lookup costs a few pointer hops more than
// a Go map's, which only paths that run once per change or per login pay
// (RequestVerification reads a session's cached view).
type pmap[K comparable, V any] struct{ m *immutable.Map[K, V] }

// hashSeed is per process, as a Go map's: nothing persists the layout.
var hashSeed = maphash.MakeSeed()

type hasher[K comparable] struct{}

func (hasher[K]) Hash(k K) uint32   { return uint32(maphash.Comparable(hashSeed, k)) }
func (hasher[K]) Equal(a, b K) bool { return a == b }

func newPmap[K comparable, V any]() pmap[K, V] {
	return pmap[K, V]{immutable.NewMap[K, V](hasher[K]{})}
}

func (p pmap[K, V]) get(k K) (V, bool) { return p.m.Get(k) }

func (p pmap[K, V]) set(k K, v V) pmap[K, V] { return pmap[K, V]{p.m.Set(k, v)} }

func (p pmap[K, V]) del(k K) pmap[K, V] { return pmap[K, V]{p.m.Delete(k)} }

func (p pmap[K, V]) len() int { return p.m.Len() }

// all iterates in an order that is fixed for a map but unspecified.
func (p pmap[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for it := p.m.Iterator(); !it.Done(); {
			k, v, _ := it.Next()
			if !yield(k, v) {
				return
			}
		}
	}
}

// pmapBuilder builds a pmap from nothing in place, without the copies a
// persistent set makes: for loading every account at once.
type pmapBuilder[K comparable, V any] struct{ b *immutable.MapBuilder[K, V] }

func newPmapBuilder[K comparable, V any]() pmapBuilder[K, V] {
	return pmapBuilder[K, V]{immutable.NewMapBuilder[K, V](hasher[K]{})}
}

func (b pmapBuilder[K, V]) set(k K, v V) { b.b.Set(k, v) }

func (b pmapBuilder[K, V]) get(k K) (V, bool) { return b.b.Get(k) }

// pmap returns the map built; b may not be used after.
func (b pmapBuilder[K, V]) pmap() pmap[K, V] { return pmap[K, V]{b.b.Map()} }
