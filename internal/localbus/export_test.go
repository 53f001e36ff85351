package localbus

// Waiting reports whether queue's consumer waits for work, and so would be
// handed what is published next.
func Waiting(b *Bus, queue string) bool { return b.queues[queue].waiting.Load() != nil }
