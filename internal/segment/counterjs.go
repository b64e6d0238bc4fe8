package segment

import _ "embed" // for CounterJS

// CounterJS is counter.js: the staff console's live segment counter, the same rules as Count
// and ToGSM written in JavaScript for the browser. The console serves it as
// /console/static/segment.js; its markup contract is at the top of the file. Do not modify
// the slice: it is shared by every reader.
//
//go:embed counter.js
var CounterJS []byte
