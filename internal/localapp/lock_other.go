//go:build !unix

package localapp

// lockDir cannot lock on this platform; running two shops on one data dir
// here is the user's to avoid.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
