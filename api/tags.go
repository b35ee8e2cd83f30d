package api

// Tags: TagResource, UntagResource and ListTagsForResource on state
// machines and activities. A version or alias ARN is ResourceNotFound, as
// observed on AWS.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/store"
)

// maxTags is the number of tags a resource may carry (keys prefixed "aws:"
// do not count).
const maxTags = 50

// validTagText reports whether s holds only Unicode letters, digits, white
// space and _ . : / = + - @, as AWS requires of tag keys and values.
func validTagText(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("_.:/=+-@", r) {
			continue
		}
		return false
	}
	return true
}

// checkTagText rejects tags with characters AWS does not allow.
func checkTagText(tags []awsapi.Tag) error {
	for _, t := range tags {
		if t.Key != nil && !validTagText(*t.Key) {
			return errValidation("Tags may only contain Unicode letters, digits, white space, or these symbols: _ . : / = + - @. Invalid key: '" + *t.Key + "'")
		}
		if t.Value != nil && !validTagText(*t.Value) {
			return errValidation("Tags may only contain Unicode letters, digits, white space, or these symbols: _ . : / = + - @. Invalid value: '" + *t.Value + "'")
		}
	}
	return nil
}

func storeTags(tags []awsapi.Tag) []store.Tag {
	out := make([]store.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, store.Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

// initTags sets the tags a resource is created with.
func (s *Server) initTags(ctx context.Context, resource string, tags []awsapi.Tag) error {
	if s.ver == nil {
		return nil
	}
	return s.ver.SetTags(ctx, resource, storeTags(tags))
}

// dropMachineExtras forgets a deleted machine's versions, aliases and tags.
func (s *Server) dropMachineExtras(ctx context.Context, machine string) error {
	if s.ver == nil {
		return nil
	}
	if err := s.ver.DeleteMachineVersions(ctx, machine); err != nil {
		return err
	}
	return s.ver.SetTags(ctx, machine, nil)
}

// taggable checks a resourceArn argument and that the resource exists.
// It returns the resource's creation tags for a resource whose tag set was
// never stored.
func (s *Server) taggable(ctx context.Context, resource *string) (store.Versions, error) {
	a, err := arn.Parse(*resource)
	if err != nil {
		return nil, errInvalidArn(err.Error())
	}
	notFound := errResourceNotFound(*resource)
	switch {
	case a.Type == arn.StateMachine && a.Qualifier == "" && a.Label == "":
		_, err := s.st.GetStateMachine(ctx, a.String())
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound
		}
		if err != nil {
			return nil, err
		}
	case a.Type == arn.Activity:
		ok, err := s.activityExists(ctx, a.String())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound
		}
	case a.Type == arn.StateMachine || a.Type == arn.Execution || a.Type == arn.Express || a.Type == arn.MapRun:
		return nil, notFound
	default:
		return nil, errInvalidArn("Invalid ARN prefix: " + *resource)
	}
	return s.ver, nil
}

func (s *Server) tagResource(ctx context.Context, body []byte) (any, error) {
	var in awsapi.TagResourceInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := checkTagText(in.Tags); err != nil {
		return nil, err
	}
	if _, err := s.taggable(ctx, in.ResourceArn); err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	if err := vs.TagResource(ctx, *in.ResourceArn, storeTags(in.Tags), maxTags); err != nil {
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, &Error{Code: awsapi.CodeTooManyTags, Message: "Too many tags: a resource can have at most 50 tags.", ResourceName: *in.ResourceArn}
		}
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) untagResource(ctx context.Context, body []byte) (any, error) {
	var in awsapi.UntagResourceInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if _, err := s.taggable(ctx, in.ResourceArn); err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	if err := vs.UntagResource(ctx, *in.ResourceArn, in.TagKeys); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type listTagsOutput struct {
	Tags []store.Tag `json:"tags"`
}

func (s *Server) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in awsapi.ListTagsForResourceInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	vs, err := s.taggable(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	var tags []store.Tag
	ok := false
	if vs != nil {
		if tags, ok, err = vs.Tags(ctx, *in.ResourceArn); err != nil {
			return nil, err
		}
	}
	if !ok {
		// No tag set stored: the tags the state machine was created with.
		if sm, err := s.st.GetStateMachine(ctx, *in.ResourceArn); err == nil && len(sm.Tags) > 0 {
			if err := json.Unmarshal(sm.Tags, &tags); err != nil {
				return nil, fmt.Errorf("read creation tags: %w", err)
			}
		}
	}
	if tags == nil {
		tags = []store.Tag{}
	}
	return listTagsOutput{Tags: tags}, nil
}
