def records():
    return []
