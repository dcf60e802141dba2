package kafka

import (
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// DescribeConfigs, versions 1-4.
//
// Topic resources list every topic config Tern accepts with its resolved
// value and source (topic override, dynamic or static broker config,
// default). Broker resources (this node's id, or "" for the cluster-wide
// default) list the broker settings topics default from. ConfigNames
// filters. Synonyms are not listed; documentation (v3+) is not provided.
// Broker logger resources get INVALID_REQUEST. A topic needs
// DESCRIBE_CONFIGS on it (TOPIC_AUTHORIZATION_FAILED), the broker
// DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED).
func (c *conn) handleDescribeConfigs(r *request) {
	req := r.kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	az := c.authz()
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		if code := configResourceDenied(az, res.ResourceType, res.ResourceName, opDescribeConfigs); code != 0 {
			rr.ErrorCode, rr.ErrorMessage = code, authzMessage(code)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		entries, err := c.configEntries(res.ResourceType, res.ResourceName)
		rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
		if err != nil && rr.ErrorCode == kerr.UnknownServerError.Code {
			rr.ErrorCode = kerr.InvalidRequest.Code
		}
		want := map[string]bool{}
		for _, n := range res.ConfigNames {
			want[n] = true
		}
		for _, e := range entries {
			if len(want) > 0 && !want[e.Name] {
				continue
			}
			rc := kmsg.NewDescribeConfigsResponseResourceConfig()
			v := e.Value
			rc.Name, rc.Value, rc.ReadOnly, rc.IsSensitive = e.Name, &v, e.ReadOnly, e.Sensitive
			rc.Source = kmsg.ConfigSource(e.Source)
			rc.IsDefault = e.Source == broker.SourceDefault || e.Source == broker.SourceStaticBroker
			rr.Configs = append(rr.Configs, rc)
		}
		resp.Resources = append(resp.Resources, rr)
	}
	r.respond(resp)
}

// configEntries resolves a config resource to its entries.
func (c *conn) configEntries(typ kmsg.ConfigResourceType, name string) ([]broker.ConfigEntry, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return c.s.broker.TopicConfigs(name)
	case kmsg.ConfigResourceTypeBroker:
		if err := c.checkBrokerResource(name); err != nil {
			return nil, err
		}
		return c.s.broker.BrokerConfigs(), nil
	default:
		return nil, fmt.Errorf("%w: config resource type %d is not supported", broker.ErrInvalidRequest, typ)
	}
}

// checkBrokerResource accepts "" (cluster-wide default) and this node's id.
func (c *conn) checkBrokerResource(name string) error {
	if name == "" || name == strconv.Itoa(int(c.s.broker.NodeID())) {
		return nil
	}
	return fmt.Errorf("%w: unknown broker %q", broker.ErrInvalidRequest, name)
}
