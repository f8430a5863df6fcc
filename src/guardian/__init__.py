"""Guardian: decides which employees may touch customer personal data, and proves every access.

The public surface of the package is small on purpose: settings, the error hierarchy and the
decision model. Everything else is reached through :mod:`guardian.bootstrap`.
"""

from guardian.errors import GuardianError
from guardian.policy.model import Decision, DecisionRequest, Outcome

__version__ = "0.1.0"

__all__ = ["Decision", "DecisionRequest", "GuardianError", "Outcome", "__version__"]
