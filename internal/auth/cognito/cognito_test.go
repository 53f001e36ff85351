package cognito

import (
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/canary"
)

func TestPreSignUp(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, "ada.lovelace@example.com": true, "a": true, strings.Repeat("a", 64): true,
		"José": false, "ada lovelace": false, strings.Repeat("a", 65): false, ".alice": false, "": false, "alice\u202e": false,
	} {
		var ev awsevents.CognitoEventUserPoolsPreSignup
		ev.UserName = name
		got, err := PreSignUp(t.Context(), ev)
		if (err == nil) != ok {
			t.Errorf("%q: %v, want accepted = %v", name, err, ok)
		}
		if got.UserName != name {
			t.Errorf("%q: the event came back changed", name)
		}
	}
}

// A refusal is the trigger working: a deployment's canary does not count it.
func TestARefusalIsExpected(t *testing.T) {
	var ev awsevents.CognitoEventUserPoolsPreSignup
	ev.UserName = "ada lovelace"
	_, err := PreSignUp(t.Context(), ev)
	if got := canary.Of(ev, ev, err); err == nil || got.Failed != 0 {
		t.Fatalf("refused %q: %v, tallied %+v; want a refusal the canary does not count", ev.UserName, err, got)
	}
}
