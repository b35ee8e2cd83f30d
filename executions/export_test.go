package executions

// WatchParks makes s call f with the ARN of each execution it parks,
// once parked (set it before starting executions).
func WatchParks(s *Service, f func(executionARN string)) {
	s.mu.Lock()
	s.parkWatch = f
	s.mu.Unlock()
}
