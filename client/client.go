// Package client is a Go client of the eventshop API, for programs that
// call the shop: the types and calls in client.gen.go are generated from
// api/openapi.yaml by oapi-codegen (make client writes them; make test fails
// while they differ from what the document makes). This file adds what the
// generator does not: a bearer token on every request, and the shop's
// problem+json answers as errors.
//
// A call returns the answer whatever its status; Check turns one that is
// not a success into a *Problem:
//
//	shop, err := client.New("https://shop.example.com/api", client.WithBearer(idToken))
//	if err != nil {
//		return err
//	}
//	res, err := shop.GetOrderWithResponse(ctx, "alice", orderID, &client.GetOrderParams{Prefer: client.Wait(5)})
//	if err == nil {
//		err = client.Check(res.HTTPResponse, res.Body)
//	}
//	var p *client.Problem
//	if errors.As(err, &p) && p.Status == http.StatusNotFound {
//		// not placed within the wait
//	}
//
// On AWS the token is a Cognito ID token; locally, what shop token prints.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// New returns a client of the shop whose API is at server (locally
// http://127.0.0.1:8080; on AWS the stack's ApiUrl, or the storefront's
// address with /api).
func New(server string, opts ...ClientOption) (*ClientWithResponses, error) {
	return NewClientWithResponses(server, opts...)
}

// WithBearer sends token as the bearer token of every request.
func WithBearer(token string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// Wait is the Prefer header that asks GetOrder to wait up to seconds (at
// most 5) for an order not placed yet, as a checkout's client does.
func Wait(seconds int) *string {
	v := "wait=" + strconv.Itoa(seconds)
	return &v
}

// Key is an Idempotency-Key: the same key with the same request gets the
// first answer again.
func Key(key string) *IdempotencyKey { return &key }

// Error makes a problem the shop answered with an error.
func (p *Problem) Error() string {
	if p.Detail != nil && *p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, *p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// Check returns nil for a successful answer (below 400), and otherwise the
// *Problem the shop answered with; an answer that is not problem+json (a
// gateway's own, say) becomes a *Problem with its status and text.
func Check(res *http.Response, body []byte) error {
	if res.StatusCode < 400 {
		return nil
	}
	p := &Problem{}
	if json.Unmarshal(body, p) != nil || p.Status == 0 {
		detail := string(body)
		p = &Problem{Status: res.StatusCode, Title: http.StatusText(res.StatusCode), Type: "about:blank", Detail: &detail}
	}
	return p
}
