package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// model is the part of the Step Functions API model (AWS's JSON service
// description) the generator reads.
type model struct {
	Operations map[string]operation `json:"operations"`
	Shapes     map[string]*shape    `json:"shapes"`
}

type operation struct {
	Input *ref `json:"input"`
}

type ref struct {
	Shape string `json:"shape"`
}

// shape is one model shape. Min and Max are numbers because
// ToleratedFailurePercentage's bounds are floats.
type shape struct {
	Type      string   `json:"type"`
	Members   members  `json:"members"`
	Required  []string `json:"required"`
	Member    *ref     `json:"member"`
	Min       *float64 `json:"min"`
	Max       *float64 `json:"max"`
	Pattern   *string  `json:"pattern"`
	Enum      []string `json:"enum"`
	Sensitive bool     `json:"sensitive"`
	Exception bool     `json:"exception"`
	Error     *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
	Documentation string `json:"documentation"`
}

type member struct {
	Name  string
	Shape string `json:"shape"`
}

// members keeps a structure's members in the model's order: AWS reports
// constraint violations in that order.
type members []member

func (ms *members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("members: want an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("members: %w", err)
		}
		m := member{Name: t.(string)}
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
		*ms = append(*ms, m)
	}
	return nil
}

func (s *shape) required(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// membersOrNil returns the members of s, which may be nil.
func (s *shape) membersOrNil() members {
	if s == nil {
		return nil
	}
	return s.Members
}

func parseModel(b []byte) (*model, error) {
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	if len(m.Operations) == 0 || len(m.Shapes) == 0 {
		return nil, fmt.Errorf("parse model: no operations or shapes")
	}
	return &m, nil
}
