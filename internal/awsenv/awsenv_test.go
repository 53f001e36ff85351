package awsenv_test

import (
	"testing"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/eventbus"
)

// Every rule's consumer service has a consumer function on AWS.
func TestEveryRuleHasAConsumerFunction(t *testing.T) {
	for _, r := range eventbus.Rules() {
		if _, ok := awsenv.Required[awsenv.ConsumerFunction(r.Consumer)]; !ok {
			t.Errorf("rule %s is read by %q: no function %s", r.Name, r.Consumer, awsenv.ConsumerFunction(r.Consumer))
		}
	}
}
