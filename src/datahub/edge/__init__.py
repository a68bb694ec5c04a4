"""HTTP helpers shared by the two edges, the API and the web pages (both import them; they
import neither)."""
