package redisstore

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// commitWithJob commits a first state for member with a job for message msg.
func commitWithJob(t *testing.T, s *Store, member, msg string, lease time.Duration) {
	t.Helper()
	err := s.Save(context.Background(), member, hotline.Commit{State: []byte("st-" + msg), TTL: time.Hour, MsgID: msg,
		Reply: []byte("r"), Now: time.Now(), Job: []byte("job-" + msg), JobLease: lease})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJobWrittenWithTheCommitAndLeased: the commit writes the job in the member's bucket,
// leased; nobody takes it while the lease runs; afterwards one taker wins, the next take waits
// twice as long (backoff), and a finished job is gone with its marks.
func TestScriptTakeJob(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) { testTakeJob(t, s) })
}

func testTakeJob(t *testing.T, s *Store) {
	ctx := context.Background()
	commitWithJob(t, s, "m1", "SM1", 300*time.Millisecond)
	// A commit that conflicts writes no job.
	err := s.Save(ctx, "m1", hotline.Commit{Expect: []byte("stale"), State: []byte("x"), TTL: time.Hour, MsgID: "SM2",
		Reply: []byte("r"), Now: time.Now(), Job: []byte("job-SM2"), JobLease: time.Second})
	if _, ok := err.(*hotline.ConflictError); !ok {
		t.Fatalf("stale commit: %v", err)
	}
	buckets, err := s.BucketsWithJobs(ctx)
	if err != nil || !slices.Equal(buckets, []string{JobBucket("m1")}) {
		t.Fatalf("buckets with jobs %v, %v", buckets, err)
	}
	jobs, err := s.Jobs(ctx, JobBucket("m1"))
	ref := hotline.JobRef{Member: "m1", Msg: "SM1"}
	if err != nil || len(jobs) != 1 || string(jobs[ref].Sealed) != "job-SM1" || jobs[ref].Applied {
		t.Fatalf("jobs %v, %v", jobs, err)
	}
	if n, err := s.TakeJob(ctx, ref, 200*time.Millisecond, time.Second); err != nil || n != 0 {
		t.Fatalf("taken while its writer's lease runs: %d, %v", n, err)
	}
	time.Sleep(350 * time.Millisecond)
	if n, err := s.TakeJob(ctx, ref, 200*time.Millisecond, time.Second); err != nil || n != 1 {
		t.Fatalf("first take-over: %d, %v", n, err)
	}
	if n, _ := s.TakeJob(ctx, ref, 200*time.Millisecond, time.Second); n != 0 {
		t.Fatal("taken twice under one lease")
	}
	time.Sleep(250 * time.Millisecond)
	if n, _ := s.TakeJob(ctx, ref, 200*time.Millisecond, time.Second); n != 2 {
		t.Fatalf("second take-over: %d, want 2", n)
	}
	// The second lease is twice the first: still held after the first's length.
	time.Sleep(250 * time.Millisecond)
	if n, _ := s.TakeJob(ctx, ref, 200*time.Millisecond, time.Second); n != 0 {
		t.Fatal("the second lease did not back off")
	}
	if err := s.MarkJobApplied(ctx, ref, time.Second); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.Jobs(ctx, JobBucket("m1")); !jobs[ref].Applied || len(jobs) != 1 {
		t.Fatalf("applied mark: %v", jobs)
	}
	if err := s.FinishJob(ctx, ref); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{s.jobsKey(JobBucket("m1")), s.jobLeaseKey("m1", "SM1"), s.jobLeaseKey("m1", "SM1") + ":n"} {
		if n, _ := s.rdb.Exists(ctx, k).Result(); n != 0 {
			t.Errorf("finished job left %s", k)
		}
	}
	if n, _ := s.TakeJob(ctx, ref, time.Millisecond, time.Second); n != 0 {
		t.Error("a finished job was taken")
	}
}

// TestDropMemberJobsKeepsTheErasure: an erasure drops the member's other jobs, never another
// member's, and keeps its own.
func TestScriptDropMemberJobs(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) { testDropMemberJobs(t, s) })
}

func testDropMemberJobs(t *testing.T, s *Store) {
	ctx := context.Background()
	// Members in one bucket: ids that hash alike are not needed, a shared bucket is found.
	other := ""
	for i := 0; other == "" && i < 1_000_000; i++ {
		if id := "x" + strconv.Itoa(i); JobBucket(id) == JobBucket("m1") {
			other = id
		}
	}
	commitWithJob(t, s, "m1", "SM1", time.Second)
	st, _ := s.Load(ctx, "m1", "")
	if err := s.Save(ctx, "m1", hotline.Commit{Expect: st.State, State: []byte("st2"), TTL: time.Hour, MsgID: "SM2",
		Reply: []byte("r"), Now: time.Now(), Job: []byte("erase"), JobLease: time.Second}); err != nil {
		t.Fatal(err)
	}
	commitWithJob(t, s, other, "SM3", time.Second)
	s.MarkJobApplied(ctx, hotline.JobRef{Member: "m1", Msg: "SM1"}, time.Second)
	if err := s.DropMemberJobs(ctx, "m1", "SM2"); err != nil {
		t.Fatal(err)
	}
	jobs, _ := s.Jobs(ctx, JobBucket("m1"))
	var got []string
	for r := range jobs {
		got = append(got, r.Member+"/"+r.Msg)
	}
	slices.Sort(got)
	if want := []string{"m1/SM2", other + "/SM3"}; !slices.Equal(got, want) {
		t.Errorf("jobs left %v, want %v", got, want)
	}
	if n, _ := s.rdb.HLen(ctx, s.jobsKey(JobBucket("m1"))).Result(); n != 2 {
		t.Errorf("the dropped job's applied mark stayed: %d fields", n)
	}
}

// TestOpenCaseOnceByToken: the same token opens one case however often it runs, and its
// first line is written once; a case closed meanwhile is not indexed again; no token opens a
// new case each time.
func TestScriptOpenCase(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) { testOpenCaseOnce(t, s) })
}

func testOpenCaseOnce(t *testing.T, s *Store) {
	ctx := context.Background()
	now := time.Now()
	rec := hotline.CaseRecord{Member: "m1", Lang: "es", Kind: "person", Opened: now}
	n1, err := s.OpenCaseOnce(ctx, rec, now.Add(time.Minute), "m1/SM1", []byte("line"))
	if err != nil {
		t.Fatal(err)
	}
	n2, err := s.OpenCaseOnce(ctx, rec, now.Add(time.Minute), "m1/SM1", []byte("line"))
	if err != nil || n2 != n1 {
		t.Fatalf("re-run opened case %d (first %d), %v", n2, n1, err)
	}
	if lines, _ := s.Transcript(ctx, n1); len(lines) != 1 {
		t.Errorf("first line written %d times", len(lines))
	}
	if err := s.CloseCaseBy(ctx, n1, "", "m1/SM9", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n3, _ := s.OpenCaseOnce(ctx, rec, now.Add(time.Minute), "m1/SM1", nil); n3 != n1 {
		t.Errorf("re-run after close: case %d", n3)
	}
	if open, _ := s.OpenCases(ctx); len(open) != 0 {
		t.Errorf("a closed case was indexed again: %v", open)
	}
	if c, _ := s.Case(ctx, n1); c.ClosedBy != "m1/SM9" {
		t.Errorf("closed by %q", c.ClosedBy)
	}
	a, _ := s.OpenCaseOnce(ctx, rec, now, "", nil)
	b, _ := s.OpenCaseOnce(ctx, rec, now, "", nil)
	if a == b || a == n1 {
		t.Errorf("untokened opens gave %d and %d", a, b)
	}
	// Erasing the member forgets their tokens.
	if err := s.Erase(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.rdb.Exists(ctx, s.caseTokensKey("m1")).Result(); n != 0 {
		t.Error("erase left the member's case tokens")
	}
}

// TestMarkUrgentAndTranscriptOnce: the token that made a case urgent is told so again, any
// other is not; a transcript line with a token is appended once.
func TestScriptAppendOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) { testMarkUrgentAndTranscriptOnce(t, s) })
}

func testMarkUrgentAndTranscriptOnce(t *testing.T, s *Store) {
	ctx := context.Background()
	n, _ := s.OpenCase(ctx, hotline.CaseRecord{Member: "m1", Lang: "es", Kind: "person", Opened: time.Now()}, time.Now())
	for i, c := range []struct {
		token string
		want  bool
	}{{"m1/SM1", true}, {"m1/SM1", true}, {"m1/SM2", false}, {"", false}} {
		if got, err := s.MarkUrgent(ctx, n, "home", c.token); err != nil || got != c.want {
			t.Errorf("%d: MarkUrgent(%q) = %v, %v; want %v", i, c.token, got, err, c.want)
		}
	}
	for range 3 {
		s.AppendTranscriptOnce(ctx, n, "m1/SM1", []byte("a"))
	}
	s.AppendTranscriptOnce(ctx, n, "", []byte("b"))
	s.AppendTranscriptOnce(ctx, n, "", []byte("b"))
	if lines, _ := s.Transcript(ctx, n); len(lines) != 3 {
		t.Errorf("transcript has %d lines, want 3 (one tokened, two not)", len(lines))
	}
	s.CloseCase(ctx, n, "", time.Now(), time.Hour)
	if got, _ := s.MarkUrgent(ctx, n, "home", "m1/SM1"); got {
		t.Error("a closed case was made urgent")
	}
}

// TestScriptMarkApplied: a job that exists is marked applied and its lease renewed; a job
// finished meanwhile gets no mark (an orphan mark would keep its bucket in every sweep).
func TestScriptMarkApplied(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		commitWithJob(t, s, "m1", "SM1", 50*time.Millisecond)
		ref := hotline.JobRef{Member: "m1", Msg: "SM1"}
		if err := s.MarkJobApplied(ctx, ref, time.Minute); err != nil {
			t.Fatal(err)
		}
		if jobs, _ := s.Jobs(ctx, JobBucket("m1")); !jobs[ref].Applied {
			t.Error("not marked applied")
		}
		wantTTL(t, s, s.jobLeaseKey("m1", "SM1"), time.Minute)
		if err := s.RenewJobLease(ctx, ref, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		wantTTL(t, s, s.jobLeaseKey("m1", "SM1"), 2*time.Minute)
		s.FinishJob(ctx, ref)
		if err := s.MarkJobApplied(ctx, ref, time.Minute); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.rdb.HLen(ctx, s.jobsKey(JobBucket("m1"))).Result(); n != 0 {
			t.Errorf("a finished job was marked: %d fields left", n)
		}
	})
}
