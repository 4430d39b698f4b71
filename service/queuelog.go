package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/wire"
	"github.com/leadgate/scrm-gateway/wecom"
)

// QueueLogStore is what the inbox and job listings read.
type QueueLogStore interface {
	ListEvents(ctx context.Context, f model.EventFilter) ([]model.Event, error)
	GetEvent(ctx context.Context, id uint64) (*model.Event, error)
	ListJobs(ctx context.Context, f model.JobFilter) ([]model.Job, error)
	GetJob(ctx context.Context, id uint64) (*model.Job, error)
	RetryJobs(ctx context.Context, r model.JobRetry) (int64, error)
}

// QueueLog reads the inbox's events and the side-effect jobs for the admin
// API: what arrived, what ran, and how each ended.
type QueueLog struct {
	store QueueLogStore
}

// NewQueueLog returns a reader over store.
func NewQueueLog(store QueueLogStore) *QueueLog { return &QueueLog{store: store} }

// EventQuery selects events, newest first: by corp, status and type, below
// the id BeforeID (0: from the newest), at most Limit.
type EventQuery struct {
	CorpID   string
	Status   string
	Type     string
	BeforeID uint64
	Limit    int
}

// JobQuery selects jobs, newest first, like EventQuery.
type JobQuery struct {
	CorpID   string
	Kind     string
	Status   string
	BeforeID uint64
	Limit    int
}

// EventView is a stored event as the API shows it. XML and Event (the
// parsed message) are set only when one event is read.
type EventView struct {
	ID             uint64           `json:"id"`
	CorpID         string           `json:"corp_id"`
	Type           string           `json:"type"`
	Status         string           `json:"status"`
	Attempts       int              `json:"attempts"`
	Error          string           `json:"error,omitempty"`
	ErrorMessage   *explain.Message `json:"error_message,omitempty"` // Error as a message (see ExplainFailure)
	UserID         string           `json:"user_id,omitempty"`
	ExternalUserID string           `json:"external_user_id,omitempty"`
	ChatID         string           `json:"chat_id,omitempty"`
	State          string           `json:"state,omitempty"`
	ReceivedAt     wire.Timestamp   `json:"received_at"`
	ProcessedAt    *wire.Timestamp  `json:"processed_at,omitempty"`
	XML            string           `json:"xml,omitempty"`
	Event          *wecom.Event     `json:"event,omitempty"`
}

// JobView is a job as the API shows it.
type JobView struct {
	ID       uint64 `json:"id"`
	CorpID   string `json:"corp_id"`
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Payload  string `json:"payload"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	// ErrorMessage is Error as a message (see ExplainFailure).
	ErrorMessage *explain.Message `json:"error_message,omitempty"`
	AvailableAt  wire.Timestamp   `json:"available_at"`
	CreatedAt    wire.Timestamp   `json:"created_at"`
	ProcessedAt  *wire.Timestamp  `json:"processed_at,omitempty"`
}

var queueStatuses = map[string]bool{
	queue.StatusPending: true, queue.StatusProcessing: true, queue.StatusProcessed: true, queue.StatusIgnored: true, queue.StatusFailed: true,
}

// Events lists events newest first, without their payloads.
func (l *QueueLog) Events(ctx context.Context, q EventQuery) ([]EventView, error) {
	if q.Status != "" && !queueStatuses[q.Status] {
		return nil, &apierr.ValidationError{Field: "status", Reason: "must be one of pending, processing, processed, ignored, failed"}
	}
	rows, err := l.store.ListEvents(ctx, model.EventFilter{CorpID: q.CorpID, Status: q.Status, Type: q.Type,
		BeforeID: q.BeforeID, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]EventView, 0, len(rows))
	for i := range rows {
		out = append(out, viewEvent(&rows[i], false))
	}
	return out, nil
}

// Event reads one event with its decrypted XML and the message parsed from it.
func (l *QueueLog) Event(ctx context.Context, id uint64) (*EventView, error) {
	e, err := l.store.GetEvent(ctx, id)
	if err != nil {
		return nil, err
	}
	v := viewEvent(e, true)
	return &v, nil
}

func viewEvent(e *model.Event, full bool) EventView {
	v := EventView{
		ID: e.ID, CorpID: e.CorpID, Type: e.Type, Status: e.Status, Attempts: e.Attempts, Error: e.Error, ErrorMessage: explain.Failure(e.Error),
		UserID: e.UserID, ExternalUserID: e.ExternalUserID, ChatID: e.ChatID, State: e.State,
		ReceivedAt: wire.At(e.ReceivedAt), ProcessedAt: wire.AtPtr(e.ProcessedAt),
	}
	if full {
		v.XML = e.Payload
		if ev, err := wecom.ParseEvent([]byte(e.Payload)); err == nil {
			v.Event = ev
		}
	}
	return v
}

// Jobs lists jobs newest first.
func (l *QueueLog) Jobs(ctx context.Context, q JobQuery) ([]JobView, error) {
	rows, err := l.store.ListJobs(ctx, model.JobFilter{CorpID: q.CorpID, Kind: q.Kind, Status: q.Status,
		BeforeID: q.BeforeID, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]JobView, 0, len(rows))
	for i := range rows {
		out = append(out, viewJob(&rows[i]))
	}
	return out, nil
}

func viewJob(j *model.Job) JobView {
	return JobView{ID: j.ID, CorpID: j.CorpID, Kind: j.Kind, Key: j.Key, Payload: j.Payload,
		Status: j.Status, Attempts: j.Attempts, Error: j.Error, ErrorMessage: explain.Failure(j.Error), AvailableAt: wire.At(j.AvailableAt),
		CreatedAt: wire.At(j.CreatedAt), ProcessedAt: wire.AtPtr(j.ProcessedAt)}
}

// JobRetryFilter selects the finished jobs POST /api/v1/jobs/retry runs
// again: Status failed (the default) or ignored, and Kind (any when empty).
type JobRetryFilter struct {
	Status string `json:"status"`
	Kind   string `json:"kind"`
}

// retryable are the statuses a job can be retried from: it has finished
// without doing its work.
var retryable = []string{queue.StatusFailed, queue.StatusIgnored}

// RetryJob runs one failed or ignored job again: pending, due now, with its
// attempts and error cleared. A job still to run or running is refused.
func (l *QueueLog) RetryJob(ctx context.Context, id uint64) (*JobView, error) {
	n, err := l.store.RetryJobs(ctx, model.JobRetry{ID: id, Statuses: retryable})
	if err != nil {
		return nil, err
	}
	j, err := l.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if n == 0 && j.Status != queue.StatusPending {
		return nil, &apierr.ValidationError{Field: "id", Reason: fmt.Sprintf("job %d is %s; only failed or ignored jobs can be retried", id, j.Status)}
	}
	v := viewJob(j)
	return &v, nil
}

// RetryJobs runs every job f selects again and reports how many.
func (l *QueueLog) RetryJobs(ctx context.Context, f JobRetryFilter) (int64, error) {
	if f.Status == "" {
		f.Status = queue.StatusFailed
	}
	if !slices.Contains(retryable, f.Status) {
		return 0, &apierr.ValidationError{Field: "status", Reason: "must be failed or ignored: only finished jobs can be retried"}
	}
	return l.store.RetryJobs(ctx, model.JobRetry{Statuses: []string{f.Status}, Kind: f.Kind})
}
