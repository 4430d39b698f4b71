package service

import "github.com/leadgate/scrm-gateway/model"

// The API's list queries. Each selects rows of one corp, AfterID (oldest
// first) or BeforeID (newest first) being the previous page's last id and
// Limit the page size; the store's filters stay the store's.

// ContactQuery selects contacts by the code they came through, the staff
// member who follows them, a tag and a name search.
type ContactQuery struct {
	CorpID  string
	CodeID  uint64
	UserID  string
	Tag     string
	Q       string
	AfterID uint64
	Limit   int
}

func (q ContactQuery) filter() model.ContactFilter {
	return model.ContactFilter{CorpID: q.CorpID, CodeID: q.CodeID, UserID: q.UserID, Tag: q.Tag, Q: q.Q,
		AfterID: q.AfterID, Limit: q.Limit}
}
