"""The facilitator board's core: reading every team's VPS and summarising the room."""
