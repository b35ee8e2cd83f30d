package api

// Activities: CreateActivity, DescribeActivity, ListActivities and
// DeleteActivity. GetActivityTask and SendTask* are in tasktokens.go.

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/store"
)

func errActivityDoesNotExist(a string) *Error {
	return awsapi.ActivityDoesNotExist("Activity Does Not Exist: '" + a + "'")
}

// activities returns the activity store, or UnsupportedOperation when the
// server has none.
func (s *Server) activities() (store.ActivityStore, error) {
	if s.acts == nil {
		return nil, awsapi.UnsupportedOperation("Activities are not supported by this server's store")
	}
	return s.acts, nil
}

// activityARN parses an activityArn argument the model's constraints
// allow.
func activityARN(v *string) (string, error) {
	a, err := arn.Parse(*v)
	if err != nil {
		return "", errInvalidArn(err.Error())
	}
	if a.Type != arn.Activity {
		return "", errInvalidArn("Resource type not valid in this context: " + string(a.Type))
	}
	return *v, nil
}

// activityExists reports whether the activity exists.
func (s *Server) activityExists(ctx context.Context, activity string) (bool, error) {
	if s.acts == nil {
		return false, nil
	}
	_, err := s.acts.GetActivity(ctx, activity)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

type createActivityOutput struct {
	ActivityArn  string `json:"activityArn"`
	CreationDate epoch  `json:"creationDate"`
}

// storedEncryption is an EncryptionConfiguration as activities keep it.
func storedEncryption(e *awsapi.EncryptionConfiguration) json.RawMessage {
	b, _ := json.Marshal(struct {
		Type                         *string `json:"type"`
		KmsKeyID                     *string `json:"kmsKeyId,omitempty"`
		KmsDataKeyReusePeriodSeconds *int64  `json:"kmsDataKeyReusePeriodSeconds,omitempty"`
	}{e.Type, e.KmsKeyID, e.KmsDataKeyReusePeriodSeconds})
	return b
}

func (s *Server) createActivity(ctx context.Context, body []byte) (any, error) {
	acts, err := s.activities()
	if err != nil {
		return nil, err
	}
	var in awsapi.CreateActivityInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := checkEncryption(in.EncryptionConfiguration); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTags {
		return nil, awsapi.TooManyTags("Too many tags: at most 50 tags are allowed.")
	}
	if err := checkTagText(in.Tags); err != nil {
		return nil, err
	}
	if !arn.ValidName(*in.Name) {
		return nil, errInvalidName(*in.Name)
	}
	a := &store.Activity{ARN: s.scope.ActivityARN(*in.Name), Name: *in.Name, CreationDate: s.now()}
	if len(in.Tags) > 0 {
		a.Tags, _ = json.Marshal(in.Tags)
	}
	if in.EncryptionConfiguration != nil {
		a.Encryption = storedEncryption(in.EncryptionConfiguration)
	}
	if err := acts.CreateActivity(ctx, a); err != nil {
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
		// Idempotent on the name; differing tags are ignored.
		old, gerr := acts.GetActivity(ctx, a.ARN)
		if gerr != nil {
			return nil, gerr
		}
		return createActivityOutput{ActivityArn: old.ARN, CreationDate: epoch(old.CreationDate)}, nil
	}
	if err := s.initTags(ctx, a.ARN, in.Tags); err != nil {
		return nil, err
	}
	return createActivityOutput{ActivityArn: a.ARN, CreationDate: epoch(a.CreationDate)}, nil
}

// The inputs activityArg reads as one.
var _ = awsapi.DeleteActivityInput(awsapi.DescribeActivityInput{})

// activityArg returns the activity store and the checked activityArn
// argument of DescribeActivity and DeleteActivity.
func (s *Server) activityArg(body []byte) (store.ActivityStore, string, error) {
	acts, err := s.activities()
	if err != nil {
		return nil, "", err
	}
	// DeleteActivityInput has the same members and constraints.
	var in awsapi.DescribeActivityInput
	if err := decodeInput(body, &in); err != nil {
		return nil, "", err
	}
	a, err := activityARN(in.ActivityArn)
	if err != nil {
		return nil, "", err
	}
	return acts, a, nil
}

type describeActivityOutput struct {
	ActivityArn             string          `json:"activityArn"`
	Name                    string          `json:"name"`
	CreationDate            epoch           `json:"creationDate"`
	EncryptionConfiguration json.RawMessage `json:"encryptionConfiguration,omitempty"`
}

func (s *Server) describeActivity(ctx context.Context, body []byte) (any, error) {
	acts, a, err := s.activityArg(body)
	if err != nil {
		return nil, err
	}
	act, err := acts.GetActivity(ctx, a)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errActivityDoesNotExist(a)
	}
	if err != nil {
		return nil, err
	}
	return describeActivityOutput{ActivityArn: act.ARN, Name: act.Name, CreationDate: epoch(act.CreationDate), EncryptionConfiguration: act.Encryption}, nil
}

func (s *Server) deleteActivity(ctx context.Context, body []byte) (any, error) {
	acts, a, err := s.activityArg(body)
	if err != nil {
		return nil, err
	}
	// Deleting an activity that does not exist succeeds, as on AWS.
	if err := acts.DeleteActivity(ctx, a); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if s.ver != nil {
		if err := s.ver.SetTags(ctx, a, nil); err != nil {
			return nil, err
		}
	}
	return struct{}{}, nil
}

type activityListItem struct {
	ActivityArn  string `json:"activityArn"`
	Name         string `json:"name"`
	CreationDate epoch  `json:"creationDate"`
}

type listActivitiesOutput struct {
	Activities []activityListItem `json:"activities"`
	NextToken  string             `json:"nextToken,omitempty"`
}

func (s *Server) listActivities(ctx context.Context, body []byte) (any, error) {
	acts, err := s.activities()
	if err != nil {
		return nil, err
	}
	var in awsapi.ListActivitiesInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	list := listing("ListActivities")
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := acts.ListActivities(ctx, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out := listActivitiesOutput{Activities: make([]activityListItem, 0, len(items)), NextToken: s.nextToken(list, next)}
	for _, a := range items {
		out.Activities = append(out.Activities, activityListItem{a.ARN, a.Name, epoch(a.CreationDate)})
	}
	return out, nil
}
