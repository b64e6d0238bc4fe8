// Package console is the staff console under /console/: server-rendered pages (html/template,
// embedded templates/ and static/), no front-end build, every action a plain HTML form. It is
// an edge over the services the SMS commands and the admin API use: it renders and calls, and
// decides nothing a service does not decide for SMS too (docs/console.md).
//
// Every response passes secureHeaders (CSP with no other origin, no framing, nosniff, no
// referrer, no-store) and http.CrossOriginProtection. Pages behind signedIn also need a
// session, a role, and on POST the session's CSRF token.
//
// # How to add a page
//
//  1. Handler: a file of its own, named after the page (cases.go), with methods of server of
//     the form func(w, r, rq *request) error. Return an error for a failure (fail logs the
//     cause and shows the error page); render with s.render(w, r, rq, status, "cases", data).
//     After a POST, redirect (303) to a GET, with ?note=<message id> listed in flashes
//     (render.go) to show a note. Record staff actions with s.record(r, rq.Session.Person,
//     "case.claim", "case 7", "").
//  2. Services: declare the small interface the page needs in console.go, add it to Config,
//     and wire the real service in internal/app/console.go.
//  3. Template: templates/cases.html defining "title" and "content"; it gets a view (Data is
//     yours). Words only through {{t .L "id" "Key" value}}; every form that POSTs carries
//     <input type="hidden" name="csrf" value="{{.CSRF}}">; labels on every field; status in
//     words or signs as well as colour. No inline script or style: files under static/.
//  4. Messages: add every id to both locales/console.en.toml and locales/console.es.toml, in
//     plain words. If a message uses a field that sampleData (messages.go) lacks, add it there
//     so `hotline check` renders it. Never a member's number, id or words outside an open case.
//  5. Route: one line per method and path in routes.go, wrapped in s.signedIn(roles, ...):
//     organizers (organizers and admin) or everyone (volunteers too: cases and reports only).
//     Add the link to nav (middleware.go) for the roles that may see it.
//  6. Test: add the route to the routes table in console_test.go (headers, sign-in redirect and
//     privacy scans then cover it), and write the page's own handler test with newEnv: a
//     volunteer's 403 if organizers only, a cross-site POST changing nothing, the action's effect.
package console
