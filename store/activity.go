package store

import (
	"context"
	"encoding/json"
	"time"
)

// Activity is an activity's row.
type Activity struct {
	ARN          string
	Name         string
	CreationDate time.Time
	// Tags as given at creation ([{"key":..,"value":..}]); nil for none.
	Tags json.RawMessage
	// Encryption is the EncryptionConfiguration object as JSON text; nil
	// for none given.
	Encryption json.RawMessage
}

// ActivityStore persists activities. A backend that holds activities
// implements it next to Store.
//
// Every method is safe for concurrent use.
type ActivityStore interface {
	// CreateActivity stores a new activity. It returns ErrAlreadyExists if
	// a.ARN exists.
	CreateActivity(ctx context.Context, a *Activity) error
	// GetActivity returns the activity, or ErrNotFound.
	GetActivity(ctx context.Context, arn string) (*Activity, error)
	// ListActivities lists activities in creation order; ErrInvalidToken
	// for a page token it did not make.
	ListActivities(ctx context.Context, p Page) (items []*Activity, next string, err error)
	// DeleteActivity deletes the activity (ErrNotFound if absent).
	DeleteActivity(ctx context.Context, arn string) error
}
