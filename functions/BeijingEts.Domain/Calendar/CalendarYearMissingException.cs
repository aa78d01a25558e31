namespace BeijingEts.Domain.Calendar;

/// <summary>A working-day question needs a year whose holiday notice has not been loaded; never guess.</summary>
public sealed class CalendarYearMissingException(int year)
    : Exception($"No working-day calendar is loaded for {year}; the regulator loads it with PUT /api/calendar/{year} once the State Council notice is published.")
{
    public int Year { get; } = year;
}
