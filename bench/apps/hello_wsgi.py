# The hello-world app of scenario 6, as a WSGI callable for `uwsgi --plugin python3`: the same
# short text body as bench/apps/hello.cjs, with a Content-Length (uWSGI's HTTP router needs one to
# keep client connections alive).
BODY = b"Hello, world!\n"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
