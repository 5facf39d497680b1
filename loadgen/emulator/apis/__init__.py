"""One encoder per API: each reads its own request body into a ParsedRequest and writes a
ResponsePlan in its own wire format, faults included. Timing lives in the server, not here."""
