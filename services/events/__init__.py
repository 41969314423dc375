"""Trade fairs, training and company events: registrations, waitlists, check-in, iCal (issue 3)."""
