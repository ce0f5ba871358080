"""What more than one test needs: real servers, wire fakes and builders (no tests here).

- `app_server`: the real app in a subprocess; `cloud_app`: it with GPT on the fake OpenAI server;
  `browser`: how Chromium is started;
  `chat_page`: driving the chat in a browser page; `socketio_client`: the chat without a browser.
- `fake_backend`: an in-process `Backend` answering from a script, for the logic above the
  backends; `fake_servers`: the providers' wire protocols, for the real SDK clients;
  `secret`: the fake API key; `gateway_server`: the OpenAI-compatible API in front of a real router.
- `postgres`, `chroma`, `oidc`: real PostgreSQL, Chroma and OpenID Connect servers;
  `load_balancer`: HAProxy running `deploy/haproxy.cfg` in front of app instances;
  `ports` and `processes`: a free port for each, waiting until it answers, stopping it (also when
  the test process dies).
- `clock`: time that passes only when a test says so.
- `knowledge_pdfs`: PDFs made for the knowledge tests, and the real samples.
"""
