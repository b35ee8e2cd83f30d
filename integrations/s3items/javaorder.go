package s3items

import (
	"sort"
	"unicode/utf16"
)

// AWS builds a CSV row's item as a Java HashMap of header to value, so its
// members come out in that map's iteration order (bucket by bucket), not
// in column order: {"0","{}","True"} for the headers 0,True,{}. javaOrder
// returns the column indexes of headers in that order.

// javaOrder returns the indexes of headers in the iteration order of a
// java.util.HashMap (default capacity 16, load factor 0.75) into which
// they were put in order.
func javaOrder(headers []string) []int {
	capacity := 16
	for float64(len(headers)) > 0.75*float64(capacity) {
		capacity *= 2
	}
	buckets := make([]int, len(headers))
	for i, h := range headers {
		hash := javaHash(h)
		hash ^= hash >> 16
		buckets[i] = int(hash & uint32(capacity-1))
	}
	order := make([]int, len(headers))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return buckets[order[a]] < buckets[order[b]] })
	return order
}

// javaHash is java.lang.String.hashCode: over UTF-16 code units.
func javaHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}
