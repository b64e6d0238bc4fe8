package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Cases: a member asking for a person, or a report of immigration activity, handled by a
// volunteer. A case's keys share the hash tag {c<n>}.
func (s *Store) caseKey(n int64) string {
	return s.prefix + ":case:{c" + strconv.FormatInt(n, 10) + "}"
}
func (s *Store) transcriptKey(n int64) string { return s.caseKey(n) + ":t" }

func (s *Store) caseSeqKey() string            { return s.prefix + ":case:seq" }
func (s *Store) openCasesKey() string          { return s.prefix + ":cases:open" }
func (s *Store) dueCasesKey() string           { return s.prefix + ":cases:due" }
func (s *Store) volCasesKey(vol string) string { return s.prefix + ":vol:" + vol + ":cases" }

// memberCasesKey lists a member's case numbers, open or closed, so that erasing the member
// finds every case they are part of. It lives in the member's slot, with their other keys.
func (s *Store) memberCasesKey(member string) string { return s.memberKey(member) + ":cases" }

// OpenCase numbers and stores a new case, due for re-paging at due when unclaimed.
func (s *Store) OpenCase(ctx context.Context, c hotline.CaseRecord, due time.Time) (int64, error) {
	return s.OpenCaseOnce(ctx, c, due, "", nil)
}

// caseTokenFor is how long a job's case number is remembered: longer than a job is retried.
const caseTokenFor = 48 * time.Hour

// openCaseScript stores case KEYS[1] and its first transcript line unless it exists; it
// answers the case's status ("new" when this call stored it, "" when it is gone).
// KEYS: the case, its transcript. ARGV: first line ("" for none), then field/value pairs.
var openCaseScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if st then return st end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if ARGV[1] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return 'new'
`)

// OpenCaseOnce opens case c as OpenCase does, once per token: a job re-run after a crash
// (token = its member and message) finds the case it opened the first time, and re-adds the
// index entries a crash may have left out, instead of opening a second one. first, when not
// nil, is the case's first sealed transcript line, written with it. It returns the case's
// number.
func (s *Store) OpenCaseOnce(ctx context.Context, c hotline.CaseRecord, due time.Time, token string, first []byte) (int64, error) {
	n, err := s.caseNumber(ctx, c.Member, token)
	if err != nil {
		return 0, err
	}
	st, err := openCaseScript.Run(ctx, s.promised(), []string{s.caseKey(n), s.transcriptKey(n)}, first,
		"member", c.Member, "lang", c.Lang, "area", c.Area, "kind", c.Kind, "urgent", flagStr(c.Urgent),
		"situation", c.Situation, "status", hotline.CaseOpen, "addr", c.SealedAddress, "opened", c.Opened.Unix(), "paged", 1).Text()
	if err != nil {
		return 0, fmt.Errorf("storing case: %w", err)
	}
	if st != "new" && st != hotline.CaseOpen {
		return n, nil // closed since: nothing to index again
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		// NX: a case indexed already keeps its times (a re-page pushed its deadline).
		p.ZAddNX(ctx, s.openCasesKey(), redis.Z{Score: float64(c.Opened.Unix()), Member: n})
		p.ZAddNX(ctx, s.dueCasesKey(), redis.Z{Score: float64(due.Unix()), Member: n})
		// No expiry while a case is open; closing one gives the list the case's retention.
		p.SAdd(ctx, s.memberCasesKey(c.Member), n)
		p.Persist(ctx, s.memberCasesKey(c.Member))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storing case: %w", err)
	}
	return n, nil
}

// caseTokensKey holds, in the member's slot, the case each of their recent jobs opened (job
// token → case number), so that a job re-run opens none again; Erase deletes it.
func (s *Store) caseTokensKey(member string) string { return s.memberKey(member) + ":fx" }

// caseNumber numbers a new case, or with a token, returns the number that token got before.
func (s *Store) caseNumber(ctx context.Context, member, token string) (int64, error) {
	var key string
	if token != "" {
		key = s.caseTokensKey(member)
		if n, err := s.rdb.HGet(ctx, key, token).Int64(); err == nil {
			return n, nil
		} else if !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("numbering case: %w", err)
		}
	}
	n, err := s.rdb.Incr(ctx, s.caseSeqKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("numbering case: %w", err)
	}
	if token == "" {
		return n, nil
	}
	// Two runs of one job racing: the first to record its number wins; the other's number is
	// left unused.
	var set *redis.BoolCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		set = p.HSetNX(ctx, key, token, n)
		p.Expire(ctx, key, caseTokenFor)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("numbering case: %w", err)
	}
	if !set.Val() {
		if n, err = s.rdb.HGet(ctx, key, token).Int64(); err != nil {
			return 0, fmt.Errorf("numbering case: %w", err)
		}
	}
	return n, nil
}

// Case reads one case.
func (s *Store) Case(ctx context.Context, n int64) (hotline.CaseRecord, error) {
	m, err := s.rdb.HGetAll(ctx, s.caseKey(n)).Result()
	if err != nil {
		return hotline.CaseRecord{}, fmt.Errorf("reading case: %w", err)
	}
	if len(m) == 0 {
		return hotline.CaseRecord{}, hotline.ErrNotFound
	}
	when := func(k string) time.Time {
		if v, _ := strconv.ParseInt(m[k], 10, 64); v > 0 {
			return time.Unix(v, 0).UTC()
		}
		return time.Time{}
	}
	paged, _ := strconv.ParseInt(m["paged"], 10, 64)
	return hotline.CaseRecord{N: n, Member: m["member"], Lang: m["lang"], Area: m["area"], Kind: m["kind"], Urgent: m["urgent"] == "1",
		Situation: m["situation"], Status: m["status"], Volunteer: m["volunteer"], SealedAddress: []byte(m["addr"]), Opened: when("opened"),
		Claimed: when("claimed"), Closed: when("closed"), Paged: paged, Verdict: m["verdict"], ClosedBy: m["closedby"]}, nil
}

// claimScript gives a case to the first volunteer who claims it; everyone after is told who
// has it. Atomic, so two volunteers on two servers at the same instant cannot both win.
var claimScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {0, ''} end
if st ~= 'open' then return {2, redis.call('HGET', KEYS[1], 'volunteer') or ''} end
redis.call('HSET', KEYS[1], 'status', 'claimed', 'volunteer', ARGV[1], 'claimed', ARGV[2])
return {1, ARGV[1]}
`)

// ClaimCase claims case n for volunteer. It reports whether this call won, and who holds it.
func (s *Store) ClaimCase(ctx context.Context, n int64, volunteer string, now time.Time) (bool, string, error) {
	res, err := claimScript.Run(ctx, s.promised(), []string{s.caseKey(n)}, volunteer, now.Unix()).Slice()
	if err != nil {
		return false, "", fmt.Errorf("claiming case: %w", err)
	}
	holder, _ := res[1].(string)
	switch code, _ := res[0].(int64); code {
	case 0:
		return false, "", hotline.ErrNotFound
	case 1:
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, s.dueCasesKey(), n)
			p.SAdd(ctx, s.volCasesKey(volunteer), n)
			return nil
		})
		if err != nil {
			return true, holder, fmt.Errorf("recording claim: %w", err)
		}
		return true, holder, nil
	}
	return false, holder, nil
}

// markUrgentScript sets a case not closed urgent, and says whether it was not already — or
// was made so by the same token (a job re-run after a crash).
var markUrgentScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'status', 'urgent', 'urgentby')
if not f[1] or f[1] == 'closed' then return 0 end
if f[2] == '1' then
  if ARGV[2] ~= '' and f[3] == ARGV[2] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'urgent', '1', 'situation', ARGV[1], 'urgentby', ARGV[2])
return 1
`)

// MarkUrgent makes case n urgent, in situation ("" when unknown). It reports whether this
// call did (false when the case was urgent already, is closed or is gone), so that only one
// caller pages everyone; a call with the token that made it urgent reports true again, so
// that a job re-run after a crash still pages (its pages are de-duplicated).
func (s *Store) MarkUrgent(ctx context.Context, n int64, situation, token string) (bool, error) {
	changed, err := markUrgentScript.Run(ctx, s.promised(), []string{s.caseKey(n)}, situation, token).Int64()
	if err != nil {
		return false, fmt.Errorf("marking case urgent: %w", err)
	}
	return changed == 1, nil
}

// waitingAckScript notes, in a case not closed, that its member was told their message
// waits, unless they were told less than ARGV[2] seconds ago.
var waitingAckScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'status', 'acked')
if not f[1] or f[1] == 'closed' then return 0 end
if f[2] and tonumber(ARGV[1]) - tonumber(f[2]) < tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'acked', ARGV[1])
return 1
`)

// AckWaiting reports whether the member of case n should be told, now, that their message
// waits for a volunteer: at most once every so often, so that a member writing message
// after message is not answered each time.
func (s *Store) AckWaiting(ctx context.Context, n int64, now time.Time, every time.Duration) (bool, error) {
	ok, err := waitingAckScript.Run(ctx, s.rdb, []string{s.caseKey(n)}, now.Unix(), int64(every/time.Second)).Int64()
	if err != nil {
		return false, fmt.Errorf("noting a waiting message: %w", err)
	}
	return ok == 1, nil
}

// setAddressScript hands a case not closed from the member who opened it (ARGV[1], a caller)
// to the member who will text in it (ARGV[2]), with the address its replies go to (ARGV[3]).
var setAddressScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'closed' then return 0 end
if redis.call('HGET', KEYS[1], 'member') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'member', ARGV[2], 'addr', ARGV[3])
return 1
`)

// SetCaseAddress hands case n, opened without an address by member from (a call), to member
// to (the SMS member of the caller's number, who said yes to texts), with the sealed address
// relays and notices go to from now on — unless the case is closed or gone (a closed case's
// address is deleted, and must not come back) or is not from's. It reports whether it did;
// the case is then listed among to's cases, for an erasure.
func (s *Store) SetCaseAddress(ctx context.Context, n int64, from, to string, sealed []byte) (bool, error) {
	set, err := setAddressScript.Run(ctx, s.promised(), []string{s.caseKey(n)}, from, to, sealed).Int64()
	if err != nil {
		return false, fmt.Errorf("setting case address: %w", err)
	}
	if set != 1 {
		return false, nil
	}
	// Another slot in a cluster: a second command. Were it lost, an erasure still finds the
	// case while it is open (the open-case index), and a closed one ends with its retention.
	if err := s.rdb.SAdd(ctx, s.memberCasesKey(to), n).Err(); err != nil {
		return true, fmt.Errorf("listing the case among the member's: %w", err)
	}
	return true, nil
}

// CloseCase closes case n: its member's address is deleted now, its transcript after
// retention.
func (s *Store) CloseCase(ctx context.Context, n int64, verdict string, now time.Time, retention time.Duration) error {
	return s.CloseCaseBy(ctx, n, verdict, "", now, retention)
}

// CloseCaseBy closes case n as CloseCase does, recording the token of the job that closed it
// (Case returns it as ClosedBy), so that the job re-run after a crash knows the case was
// closed by it and still tells the volunteer.
func (s *Store) CloseCaseBy(ctx context.Context, n int64, verdict, token string, now time.Time, retention time.Duration) error {
	c, err := s.Case(ctx, n)
	if err != nil {
		return err
	}
	// A case closed is an address deleted: promised (a replica has it) like an erasure.
	err = s.promise(ctx, s.caseKey(n), func(c redis.Cmdable) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, s.caseKey(n), "status", hotline.CaseClosed, "closed", now.Unix(), "verdict", verdict, "closedby", token)
			p.HDel(ctx, s.caseKey(n), "addr")
			p.Expire(ctx, s.caseKey(n), retention)
			p.Expire(ctx, s.transcriptKey(n), retention)
			return nil
		})
		return err
	})
	if err == nil {
		// The member's list of cases outlives this one's retention only if another case of
		// theirs is open (which cleared the expiry) or closed later (which extends it).
		err = s.expireMemberCases(ctx, c.Member, retention)
	}
	if err != nil {
		return fmt.Errorf("closing case: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.unindexCase(ctx, p, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("closing case: %w", err)
	}
	return nil
}

// unindexCase takes case c out of the open and due lists and its volunteer's cases.
func (s *Store) unindexCase(ctx context.Context, p redis.Pipeliner, c hotline.CaseRecord) {
	p.ZRem(ctx, s.openCasesKey(), c.N)
	p.ZRem(ctx, s.dueCasesKey(), c.N)
	if c.Volunteer != "" {
		p.SRem(ctx, s.volCasesKey(c.Volunteer), c.N)
	}
}

// AppendTranscript adds a sealed line to case n's transcript.
func (s *Store) AppendTranscript(ctx context.Context, n int64, sealed []byte) error {
	return s.AppendTranscriptOnce(ctx, n, "", sealed)
}

// appendOnceScript appends a transcript line unless the case has one with this token already
// (the token's mark is a field of the case, so it goes with the case).
// KEYS: the case, its transcript. ARGV: token ("" for none), line.
var appendOnceScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('HSETNX', KEYS[1], 't:' .. ARGV[1], '1') == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
`)

// AppendTranscriptOnce adds a sealed line to case n's transcript, once per token: a job re-run
// after a crash does not write the member's words twice.
func (s *Store) AppendTranscriptOnce(ctx context.Context, n int64, token string, sealed []byte) error {
	if token == "" {
		if err := s.rdb.RPush(ctx, s.transcriptKey(n), sealed).Err(); err != nil {
			return fmt.Errorf("saving transcript: %w", err)
		}
		return nil
	}
	if err := appendOnceScript.Run(ctx, s.rdb, []string{s.caseKey(n), s.transcriptKey(n)}, token, sealed).Err(); err != nil {
		return fmt.Errorf("saving transcript: %w", err)
	}
	return nil
}

// Transcript returns case n's sealed transcript lines.
func (s *Store) Transcript(ctx context.Context, n int64) ([][]byte, error) {
	vals, err := s.rdb.LRange(ctx, s.transcriptKey(n), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading transcript: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// OpenCases lists open and claimed cases, oldest first.
func (s *Store) OpenCases(ctx context.Context) ([]hotline.CaseRecord, error) {
	ns, err := s.rdb.ZRange(ctx, s.openCasesKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", err)
	}
	var out []hotline.CaseRecord
	for _, v := range ns {
		n, _ := strconv.ParseInt(v, 10, 64)
		c, err := s.Case(ctx, n)
		if errors.Is(err, hotline.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// VolunteerCases lists the cases volunteer has claimed and not closed.
func (s *Store) VolunteerCases(ctx context.Context, volunteer string) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.volCasesKey(volunteer)).Result()
	if err != nil {
		return nil, fmt.Errorf("listing volunteer's cases: %w", err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		n, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, n)
	}
	return out, nil
}

// DueCases returns unclaimed cases whose paging deadline has passed, and pushes each one's
// deadline to next so that only one process re-pages it.
func (s *Store) DueCases(ctx context.Context, now, next time.Time) ([]int64, error) {
	vs, err := s.rdb.ZRangeByScore(ctx, s.dueCasesKey(), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.Unix(), 10)}).Result()
	if err != nil {
		return nil, fmt.Errorf("listing due cases: %w", err)
	}
	var out []int64
	for _, v := range vs {
		// ZADD XX GT moves the deadline only if it is still the old one: one process wins.
		changed, err := s.rdb.ZAddArgs(ctx, s.dueCasesKey(), redis.ZAddArgs{XX: true, GT: true, Ch: true,
			Members: []redis.Z{{Score: float64(next.Unix()), Member: v}}}).Result()
		if err != nil {
			return nil, fmt.Errorf("re-arming case: %w", err)
		}
		if changed == 1 {
			n, _ := strconv.ParseInt(v, 10, 64)
			s.rdb.HIncrBy(ctx, s.caseKey(n), "paged", 1)
			out = append(out, n)
		}
	}
	return out, nil
}

// expireMemberCases lets a member's list of cases expire after retention, unless one of
// their cases is still open.
func (s *Store) expireMemberCases(ctx context.Context, member string, retention time.Duration) error {
	ns, err := s.MemberCases(ctx, member)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if st, err := s.rdb.HGet(ctx, s.caseKey(n), "status").Result(); err == nil && st != hotline.CaseClosed {
			return nil
		}
	}
	if err := s.rdb.Expire(ctx, s.memberCasesKey(member), retention).Err(); err != nil {
		return fmt.Errorf("closing case: %w", err)
	}
	return nil
}

// MemberCases lists the cases, open or closed (until their retention ends), member is part
// of.
func (s *Store) MemberCases(ctx context.Context, member string) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.memberCasesKey(member)).Result()
	if err != nil {
		return nil, fmt.Errorf("listing a member's cases: %w", err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// DeleteCase deletes case n and its transcript now (a member erasing their data).
func (s *Store) DeleteCase(ctx context.Context, n int64) error {
	c, err := s.Case(ctx, n)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.caseKey(n), s.transcriptKey(n))
		s.unindexCase(ctx, p, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting case: %w", err)
	}
	return nil
}

// ReopenCase gives a claimed case back to everyone (its volunteer was removed): it is open
// again and due for paging now.
func (s *Store) ReopenCase(ctx context.Context, n int64, volunteer string, now time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.caseKey(n), "status", hotline.CaseOpen)
		p.HDel(ctx, s.caseKey(n), "volunteer", "claimed")
		p.ZAdd(ctx, s.dueCasesKey(), redis.Z{Score: float64(now.Unix()), Member: n})
		p.SRem(ctx, s.volCasesKey(volunteer), n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reopening case: %w", err)
	}
	return nil
}
