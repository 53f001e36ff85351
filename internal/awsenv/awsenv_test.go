package awsenv_test

import (
	"testing"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/events"
)

// Every rule's consumer service has a consumer function on AWS.
func TestEveryRuleHasAConsumerFunction(t *testing.T) {
	for _, r := range events.Rules() {
		if _, ok := awsenv.Required[awsenv.ConsumerFunction(r.Consumer)]; !ok {
			t.Errorf("rule %s is read by %q: no function %s", r.Name, r.Consumer, awsenv.ConsumerFunction(r.Consumer))
		}
	}
}
