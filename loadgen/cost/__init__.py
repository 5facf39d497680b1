"""What tokens cost: the pricing catalogue, a run's resolved prices, and the arithmetic of spend,
projections and budgets.
"""
