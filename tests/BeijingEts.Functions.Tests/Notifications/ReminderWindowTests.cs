using BeijingEts.Domain.Calendar;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Tests.Notifications;

/// <summary>Which deadlines a day's run finds at each lead, on the shipped working-day calendar (no storage).</summary>
public sealed class ReminderWindowTests
{
    private static readonly WorkingDayCalendar Calendar = new(CalendarService.BuiltInYears.Values);

    private static DateOnly D(string iso) => DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    private static int? LeadOf(string today, string due) => ReminderWindows.For(Calendar, D(today), [10, 3, 1]).Windows.LeadOf(D(due));

    [Theory]
    [InlineData("2026-04-30", "2026-05-06", 1)]    // across the Labour Day holiday, 1-5 May
    [InlineData("2026-05-04", "2026-05-06", 1)]    // run on a holiday: still one working day away
    [InlineData("2026-04-29", "2026-05-06", null)] // two working days: no lead
    [InlineData("2026-04-28", "2026-05-06", 3)]
    [InlineData("2026-04-17", "2026-05-06", 10)]
    [InlineData("2026-03-12", "2026-03-14", 1)]    // a Saturday deadline is as far as the Friday before it
    [InlineData("2026-03-12", "2026-03-13", 1)]
    [InlineData("2026-02-12", "2026-02-24", 3)]    // Spring Festival: 13, 14 (make-up Saturday), then 24 February
    [InlineData("2026-05-06", "2026-05-06", null)] // the day itself is no lead
    [InlineData("2026-05-07", "2026-05-06", null)] // nor a day after it
    public void ADeadline_IsAtTheLeadOfTheWorkingDaysBeforeIt(string today, string due, int? lead) => Assert.Equal(lead, LeadOf(today, due));

    [Fact]
    public void ALeadThatRunsIntoAYearWithNoCalendar_IsLeftOutAndNamed_TheOthersStay()
    {
        var (windows, uncounted) = ReminderWindows.For(Calendar, D("2026-12-22"), [10, 3, 1]);
        Assert.Equal([10], uncounted);
        Assert.Equal([3, 1], windows.Windows.Select(w => w.Lead));
        Assert.Equal(1, windows.LeadOf(D("2026-12-23")));
    }
}
