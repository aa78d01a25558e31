using BeijingEts.Functions.Cycle;

namespace BeijingEts.Functions.Surrender;

public static class SurrenderServices
{
    public static IServiceCollection AddSurrender(this IServiceCollection services) => services
        .AddSingleton<CycleScheduleStore>()
        .AddSingleton<SurrenderStore>()
        .AddSingleton<SuccessionObligations>()
        .AddSingleton<ComplianceService>()
        .AddSingleton<CycleStore>()
        .AddSingleton<CyclePhases>()
        .AddSingleton<CycleEngine>()
        .AddSingleton<CycleSnapshots>();
}
