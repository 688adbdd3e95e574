package queue

// lanes holds jobs by lane and hands them out one lane at a time, in turn:
// a lane with a thousand jobs waits its turn like a lane with one. It is
// not safe for concurrent use; its owner locks.
type lanes struct {
	jobs  map[string][]Job
	order []string // lanes with jobs, in turn
	n     int
}

func newLanes() *lanes { return &lanes{jobs: map[string][]Job{}} }

// push adds j at the end of its lane, or at its front when first is set
// (a job handed back goes before the lane's others).
func (l *lanes) push(j Job, first bool) {
	jobs := l.jobs[j.Lane]
	if len(jobs) == 0 {
		l.order = append(l.order, j.Lane)
	}
	if first {
		jobs = append([]Job{j}, jobs...)
	} else {
		jobs = append(jobs, j)
	}
	l.jobs[j.Lane] = jobs
	l.n++
}

// pop takes the first job of the lane whose turn it is; ok is false when
// no job waits.
func (l *lanes) pop() (Job, bool) {
	if len(l.order) == 0 {
		return Job{}, false
	}
	lane := l.order[0]
	l.order = l.order[1:]
	jobs := l.jobs[lane]
	j := jobs[0]
	if len(jobs) > 1 {
		l.jobs[lane] = jobs[1:]
		l.order = append(l.order, lane)
	} else {
		delete(l.jobs, lane)
	}
	l.n--
	return j, true
}

// len counts the jobs waiting.
func (l *lanes) len() int { return l.n }
