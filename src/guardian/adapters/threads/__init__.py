"""Background threads of guardian serve: the loop, syncs and schedules."""
