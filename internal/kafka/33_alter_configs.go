package kafka

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// AlterConfigs, versions 0-2.
//
// Replaces a resource's whole set of overrides, as Kafka's legacy
// AlterConfigs does: names left out go back to their defaults. Topic and
// broker ("" or this node's id) resources; unknown config names get
// INVALID_CONFIG, values that fail validation INVALID_CONFIG. A topic
// needs ALTER_CONFIGS on it (TOPIC_AUTHORIZATION_FAILED), the broker
// ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED).
func (c *conn) handleAlterConfigs(r *request) {
	req := r.kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	az := c.authz()
	for _, res := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		if code := configResourceDenied(az, res.ResourceType, res.ResourceName, opAlterConfigs); code != 0 {
			rr.ErrorCode, rr.ErrorMessage = code, authzMessage(code)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		ops := make([]broker.ConfigOp, 0, len(res.Configs))
		for _, cfg := range res.Configs {
			if cfg.Value != nil {
				ops = append(ops, broker.ConfigOp{Name: cfg.Name, Value: *cfg.Value, Op: broker.OpSet})
			}
		}
		err := c.alterConfigs(res.ResourceType, res.ResourceName, ops, true, req.ValidateOnly)
		rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, rr)
	}
	r.respond(resp)
}

func (c *conn) alterConfigs(typ kmsg.ConfigResourceType, name string, ops []broker.ConfigOp, replace, validateOnly bool) error {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return c.s.broker.AlterTopicConfigs(c.ctx, name, ops, replace, validateOnly)
	case kmsg.ConfigResourceTypeBroker:
		if err := c.checkBrokerResource(name); err != nil {
			return err
		}
		return c.s.broker.AlterBrokerConfigs(c.ctx, ops, replace, validateOnly)
	default:
		return fmt.Errorf("%w: config resource type %d is not supported", broker.ErrInvalidRequest, typ)
	}
}
