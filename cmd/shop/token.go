package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/eventshop/eventshop/internal/auth/localjwt"
)

func token(args []string, stdout, _ io.Writer) error {
	fs := newFlags("token", "shop token --user NAME [--admin] [--ttl 1h] [--data DIR]",
		"\nThe token is signed with the key of the shop in --data, which must have been\nserved at least once; send it as Authorization: Bearer TOKEN.\n")
	user := fs.String("user", "", "user name the token is for (required)")
	admin := fs.Bool("admin", false, "put the user in the admin group")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid, at most 720h")
	data := fs.String("data", "./data", "data directory of the shop whose key signs the token")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fs.fail("token takes no arguments, but was given %q", fs.Args())
	case *user == "":
		return fs.fail("--user is required")
	}
	keys, err := localjwt.Load(*data)
	if errors.Is(err, os.ErrNotExist) {
		return noShop(*data)
	}
	if err != nil {
		return err
	}
	tok, err := keys.Issue(*user, *admin, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// noShop says that dir holds no shop, and how to make one.
func noShop(dir string) error {
	return fmt.Errorf("%s holds no shop (run shop serve --data %s first, or give the --data of an existing shop)", dir, dir)
}
